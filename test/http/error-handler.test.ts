// The one error handler, on a real Koa app over real HTTP: every kind of thrown error becomes the status of its
// code (error-status.ts), as JSON with X-Connector-Error on the API and the callback, as the site's error page
// everywhere else, 404/405/500 included; steps mounted alone do their one job.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import test, { type ExecutionContext } from 'ava';
import Koa from 'koa';
import { AccountError } from '../../src/accounts/accounts.js';
import { CallbackInputError } from '../../src/activation/callback.js';
import { ActivationError } from '../../src/activation/service.js';
import { StoreBusyError, StoreNotFoundError } from '../../src/store-api/errors.js';
import { ConnectorError } from '../../src/errors.js';
import { handleErrors } from '../../src/http/error-handler.js';
import { ERROR_STATUS, statusOf } from '../../src/http/error-status.js';
import { HttpError } from '../../src/http/errors.js';
import type { BaseState } from '../../src/http/state.js';
import { IdentityError } from '../../src/identity/errors.js';
import { requestId, securityHeaders } from '../../src/http/middleware.js';
import { createRenderer } from '../../src/http/views.js';
import { createLogger } from '../../src/log.js';
import { QueryError } from '../../src/protocol/errors.js';
import { UpstreamTimeoutError } from '../../src/protocol/transport-errors.js';
import { StorageUnavailableError } from '../../src/storage/errors.js';

const THROWN: Record<string, () => unknown> = {
  http: () => new HttpError('unauthorized', 'No key.', { headers: { 'WWW-Authenticate': 'Bearer' } }),
  connector: () => new ConnectorError('store_revoked', 'Revoked.', { fix: 'Click Reauthorize.' }),
  account: () => new AccountError('throttled', 'Too many.', 900),
  activation: () => new ActivationError('still_connecting', 'Still connecting.', { fix: 'activate_again' }),
  callback: () => new CallbackInputError('store_base_url must be https', 'private_store_url', 'store_base_url', undefined),
  'not-found': () => new StoreNotFoundError(),
  busy: () => new StoreBusyError(8),
  query: () => new QueryError('duplicate_parameter', 'a repeated name'),
  transport: () => new UpstreamTimeoutError('shop.example', 443, 'response', 1000),
  storage: () => new StorageUnavailableError('database unavailable: down'),
  parser: () => Object.assign(new Error('request entity too large'), { status: 413, expose: true }),
  bug: () => new TypeError('undefined is not a function (secret detail)'),
  unmapped: () => new ConnectorError('brand_new_code', 'A code without a status.'),
};

/** The status, code and headers each thrown error answers with. */
const EXPECTED: Record<string, [number, string, Record<string, string>?]> = {
  http: [401, 'unauthorized', { 'www-authenticate': 'Bearer' }],
  connector: [409, 'store_revoked'],
  account: [429, 'throttled', { 'retry-after': '900' }],
  activation: [504, 'still_connecting'],
  callback: [400, 'invalid_callback'],
  'not-found': [404, 'store_not_found'],
  busy: [503, 'store_busy', { 'retry-after': '1' }],
  query: [400, 'duplicate_parameter'],
  transport: [504, 'upstream_timeout'],
  storage: [503, 'database_unavailable', { 'retry-after': '5' }],
  parser: [413, 'body_too_large'],
  bug: [500, 'internal_error'],
  unmapped: [500, 'brand_new_code'],
};

async function app(t: ExecutionContext) {
  let logged = '';
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => (logged += chunk.toString('utf8')));
  const koa = new Koa();
  koa.silent = true;
  koa.use(requestId);
  koa.use(securityHeaders);
  koa.use(handleErrors({ logger: createLogger('info', sink), render: createRenderer() }));
  const router = new Router();
  for (const prefix of ['/api', '/account', '/magento/identity', '/magento/callback']) {
    router.get(`${prefix}/throw/:kind`, (ctx) => {
      ctx.set('Content-Type', 'application/octet-stream'); // set for a success that never came
      throw THROWN[ctx.params.kind!]!();
    });
  }
  // A step that knows where to start again, and that its page shows in the popup though its path does not say so.
  router.get('/elsewhere/throw', (ctx) => {
    const state = ctx.state as BaseState;
    if (ctx.query.retry) state.retry = { url: '/start?again=1&x=<y>', text: 'Start again' };
    if (ctx.query.popup) state.inPopup = true;
    throw new IdentityError('reset_link_expired', 'This link has expired.');
  });
  router.post('/account/form-only', (ctx) => void (ctx.body = 'ok'));
  router.post('/magento/callback', (ctx) => void (ctx.body = 'ok'));
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  const server = koa.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs: () => logged };
}

test('the status table has a status for every code, and only real statuses', (t) => {
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    t.regex(code, /^[a-z]+(_[a-z]+)*$/, code);
    t.true(status >= 400 && status <= 599, code);
  }
  t.is(statusOf('no_such_code'), 500);
  t.is(statusOf('store_busy'), 503);
});

test('/api and the callback: each thrown error is its code\'s status, in the JSON shape with X-Connector-Error', async (t) => {
  const { url, logs } = await app(t);
  for (const prefix of ['/api', '/magento/callback']) {
    for (const [kind, [status, code, headers = {}]] of Object.entries(EXPECTED)) {
      const res = await fetch(`${url}${prefix}/throw/${kind}`);
      const what = `${prefix} ${kind}`;
      t.is(res.status, status, what);
      t.is(res.headers.get('x-connector-error'), code, what);
      t.regex(res.headers.get('content-type') ?? '', /^application\/json/, what);
      t.truthy(res.headers.get('x-request-id'), what);
      for (const [name, value] of Object.entries(headers)) t.is(res.headers.get(name), value, `${what}: ${name}`);
      const body = (await res.json()) as { error: { code: string; message: string } };
      t.deepEqual(Object.keys(body), ['error'], what);
      t.deepEqual(Object.keys(body.error), ['code', 'message'], what);
      t.is(body.error.code, code, what);
      if (kind === 'bug') {
        t.regex(body.error.message, /^Something went wrong on our side \(request [\w-]+\)\.$/);
        t.false(body.error.message.includes('secret detail'), 'a bug\'s details stay in the log');
      }
    }
  }
  t.regex(logs(), /unhandled error/);
  t.regex(logs(), /"code":"brand_new_code".*no HTTP status for this error code/);
  t.regex(logs(), /secret detail/);
  const wrongMethod = await fetch(`${url}/magento/callback`);
  t.is(wrongMethod.status, 405);
  t.is(wrongMethod.headers.get('x-connector-error'), 'method_not_allowed');
  t.is(wrongMethod.headers.get('allow'), 'POST');
});

test('browser routes: the same errors are the site\'s error page, never JSON or plain text; the popup may offer to close', async (t) => {
  const { url } = await app(t);
  for (const prefix of ['/account', '/magento/identity']) {
    for (const kind of Object.keys(THROWN)) {
      const res = await fetch(`${url}${prefix}/throw/${kind}`);
      const text = await res.text();
      const what = `${prefix} ${kind}`;
      t.is(res.status, EXPECTED[kind]![0], what);
      for (const [name, value] of Object.entries(EXPECTED[kind]![2] ?? {})) t.is(res.headers.get(name), value, `${what}: ${name}`);
      t.regex(res.headers.get('content-type') ?? '', /^text\/html/, what);
      t.is(res.headers.get('x-connector-error'), null, what);
      t.is(res.headers.get('cache-control'), 'no-store', what);
      t.regex(res.headers.get('content-security-policy') ?? '', /default-src 'none'/, what);
      t.regex(text, /^<!doctype html>/, what);
      t.notRegex(text, /"error":|secret detail|at .*\.ts:\d+/, what);
      t.is(/data-close-window/.test(text), prefix === '/magento/identity', `${what}: the close button only in the popup`);
    }
  }
  const activation = await (await fetch(`${url}/account/throw/activation`)).text();
  t.regex(activation, /<h1>Still connecting<\/h1>/);
  t.regex(activation, /<p class="fix"><strong>What to do:<\/strong> In the Magento admin/);
  const connector = await (await fetch(`${url}/account/throw/connector`)).text();
  t.regex(connector, /Click Reauthorize\./);
  for (const [path, method, status, text] of [
    ['/nothing', 'GET', 404, /There is no page at this address/],
    ['/account/form-only', 'GET', 405, /This address is for a form/],
    ['/account/form-only', 'DELETE', 405, /DELETE is not supported at this address; it takes POST/],
  ] as const) {
    const res = await fetch(`${url}${path}`, { method });
    t.is(res.status, status, path);
    t.regex(res.headers.get('content-type') ?? '', /^text\/html/, path);
    t.regex(await res.text(), text, path);
  }
});

test('browser routes: the page links to where a step said to start again, for any error, and a step may put it in the popup', async (t) => {
  const { url } = await app(t);
  const plain = await fetch(`${url}/elsewhere/throw`);
  t.is(plain.status, 410);
  const plainText = await plain.text();
  t.regex(plainText, /<h1>This link has expired<\/h1>/);
  t.notRegex(plainText, /class="button"|data-close-window/);
  t.regex(plainText, /Go to your account page/);
  const retry = await (await fetch(`${url}/elsewhere/throw?retry=1`)).text();
  t.regex(retry, /<a class="button" href="\/start\?again=1&amp;x=&lt;y&gt;">Start again<\/a>/, 'escaped');
  const popup = await (await fetch(`${url}/elsewhere/throw?popup=1&retry=1`)).text();
  t.regex(popup, /data-close-window/);
  t.notRegex(popup, /Go to your account page/);
  t.regex(popup, /Start again/);
});
