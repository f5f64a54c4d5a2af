// The access log: one line per request, written by a child logger without redaction (its fields are fixed and none
// is a credential), while every other line keeps the logger's redaction.
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import { createLogger } from '../../src/log.js';
import { accessLog, requestId } from '../../src/http/middleware.js';

function memoryLogger(level = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, out, 'json'), lines };
}

async function serve(t: { teardown(fn: () => void): void }, app: Koa): Promise<string> {
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('one line per request with its six fields; an activation token in the path is logged as a hash', async (t) => {
  const { logger, lines } = memoryLogger();
  const app = new Koa();
  app.use(requestId);
  app.use(accessLog(logger));
  app.use((ctx) => {
    ctx.status = 204;
  });
  const url = await serve(t, app);
  const token = 'act_' + 'Z'.repeat(40);
  const res = await fetch(`${url}/magento/identity/${token}?password=hunter2`, { headers: { 'x-request-id': 'crm-1' } });
  t.is(res.status, 204);
  await new Promise((resolve) => setImmediate(resolve));
  const line = lines.find((l) => l.msg === 'request');
  t.truthy(line);
  t.deepEqual(Object.keys(line!).filter((k) => !['level', 'time', 'msg'].includes(k)).sort(), ['callerRequestId', 'method', 'ms', 'path', 'requestId', 'status']);
  t.is(line!.callerRequestId, 'crm-1');
  t.is(line!.status, 204);
  t.regex(String(line!.path), /^\/magento\/identity\/~[0-9a-f]{12}$/);
  t.false(JSON.stringify(lines).includes(token), 'the token is in no line');
  t.false(JSON.stringify(lines).includes('hunter2'), 'nor the query');
});

test("the access log's child leaves the logger's own redaction in place", (t) => {
  const { logger, lines } = memoryLogger();
  accessLog(logger);
  logger.info({ password: 'p', nested: { secret: 's', token: 't' }, headers: { authorization: 'Bearer k' } }, 'other line');
  t.deepEqual(lines[0], { ...lines[0], password: '[redacted]', nested: { secret: '[redacted]', token: '[redacted]' }, headers: { authorization: '[redacted]' } });
});

test('below info there is no access log at all', async (t) => {
  const { logger, lines } = memoryLogger('warn');
  const app = new Koa();
  app.use(accessLog(logger));
  app.use((ctx) => {
    ctx.body = 'ok';
  });
  const url = await serve(t, app);
  t.is((await fetch(url)).status, 200);
  t.is(lines.length, 0);
});
