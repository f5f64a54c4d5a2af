// WORKERS=2: `npm start`'s process supervises two server processes on one port (src/cluster.ts). Requests reach both
// (their access-log lines carry the worker's pid), a worker killed from outside is replaced, SIGTERM to the primary
// stops every worker and exits 0, and a bad setting is still one line and exit 2.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { freshDatabase } from '../helpers/db.js';
import { listeningPort, runMain, startMain, type Started } from './process.js';

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'connector-workers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const base = (dataDir: string, more: Record<string, string> = {}) => ({ DATA_DIR: dataDir, PORT: '0', ALLOW_PRIVATE_STORE_URLS: 'true', LOG_FORMAT: 'json', ...more });

/** A GET on a connection of its own (the cluster hands out connections, not requests). */
function get(port: number, path: string, requestId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, headers: { 'x-request-id': requestId, connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

interface LogLine {
  msg: string;
  pid?: number;
  workerPid?: number;
  callerRequestId?: string;
  pids?: number[];
}

const lines = (server: Started): LogLine[] =>
  server
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

/** The pids whose access-log lines answered the requests tagged `prefix`. */
function answeredBy(server: Started, prefix: string): Set<number> {
  return new Set(lines(server).filter((l) => l.msg === 'request' && l.callerRequestId?.startsWith(prefix)).map((l) => l.pid!));
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('WORKERS=2: two processes serve one port; a killed worker is replaced; SIGTERM stops both and exits 0', async (t) => {
  const dataDir = tempDir(t);
  const database = await freshDatabase('sqlite');
  t.teardown(() => database.drop());
  const server = startMain(t, base(dataDir, { DATABASE_URL: database.url, WORKERS: '2' }));
  const port = await listeningPort(server);
  const announced = lines(server).find((l) => l.msg.startsWith('connector listening on'))!;
  t.is(announced.pids?.length, 2, JSON.stringify(announced));
  const [first, second] = announced.pids!;
  t.not(first, second);
  t.not(first, server.process.pid, 'the primary only supervises');
  t.true(existsSync(join(dataDir, 'secrets.key')), 'the key file is in DATA_DIR');
  t.is(lines(server).filter((l) => /key just generated/.test(l.msg)).length, 1, 'generated once, by the first worker; the second read it');

  // New connections are handed out in turn: a few requests reach both workers.
  for (let i = 0; i < 8; i++) t.is(await get(port, '/healthz', `before-${i}`), 200);
  await until('both access-log lines', () => answeredBy(server, 'before-').size === 2);
  t.deepEqual([...answeredBy(server, 'before-')].sort(), [first!, second!].sort());

  // A worker that dies is replaced, on the same port.
  process.kill(second!, 'SIGKILL');
  await until('a replacement worker', () => lines(server).some((l) => l.msg === 'worker listening' && l.pid !== first && l.pid !== second));
  const replacement = lines(server).find((l) => l.msg === 'worker listening' && l.pid !== first && l.pid !== second)!.pid!;
  t.true(lines(server).some((l) => l.msg === 'worker exited unexpectedly: starting another' && l.workerPid === second));
  for (let i = 0; i < 8; i++) t.is(await get(port, '/healthz', `after-${i}`), 200);
  await until('both access-log lines', () => answeredBy(server, 'after-').size === 2);
  t.deepEqual([...answeredBy(server, 'after-')].sort(), [first!, replacement].sort());

  server.process.kill('SIGTERM');
  t.deepEqual(await server.exited, { code: 0, signal: null }, `${server.stdout()}\n${server.stderr()}`);
  t.false(alive(first!), 'the first worker is gone');
  t.false(alive(replacement), 'the replacement is gone');
  t.is(lines(server).filter((l) => l.msg === 'stopped').length, 3, 'each worker and the primary say they stopped');
  t.is(server.stderr(), '');
});

test('WORKERS out of range or not a number: one line, exit 2, before any database file is made', async (t) => {
  for (const value of ['0', '65', 'two']) {
    const dataDir = tempDir(t);
    const result = await runMain(base(dataDir, { WORKERS: value }));
    t.is(result.code, 2, `${value}: ${result.stderr}`);
    t.regex(result.stderr, /^invalid environment: WORKERS: /, value);
    t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
    t.false(existsSync(join(dataDir, 'connector.db')), value);
  }
});

test('WORKERS=2 with a key that cannot open the database: the first worker says so in one line, exit 2, no others start', async (t) => {
  const dataDir = tempDir(t);
  const database = await freshDatabase('sqlite');
  t.teardown(() => database.drop());
  // Sealed data under one key...
  // (the shared callback URL, open sign-up mode: the quickest way to get a sealed row in)
  const env = base(dataDir, { DATABASE_URL: database.url, SECRETS_KEY: `k1:${Buffer.alloc(32, 1).toString('base64')}`, OPEN_SIGNUP_ACTIVATION: 'true' });
  const one = startMain(t, env);
  const port = await listeningPort(one);
  const body = new URLSearchParams({
    oauth_consumer_key: `ck${'a'.repeat(30)}`,
    oauth_consumer_secret: `cs${'b'.repeat(30)}`,
    oauth_verifier: `vf${'c'.repeat(30)}`,
    store_base_url: 'http://127.0.0.1:9/store/',
  });
  t.true((await fetch(`http://127.0.0.1:${port}/magento/callback`, { method: 'POST', body })).ok);
  one.process.kill('SIGTERM');
  t.is((await one.exited).code, 0);
  // ...and two workers started with another.
  const result = await runMain({ ...env, WORKERS: '2', SECRETS_KEY: `k2:${Buffer.alloc(32, 2).toString('base64')}` });
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, /^cannot start: the database holds secrets sealed with key "k1"/);
  t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
  t.false(result.stdout.includes('worker listening'), 'no worker got as far as listening');
});

/** A request on a connection of its own, with its body and the status. */
function request(port: number, method: string, path: string, requestId: string, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method, agent: false, headers: { 'x-request-id': requestId, connection: 'close', 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The value of one series in Prometheus text (`name{labels} value`). */
function series(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

test('WORKERS=2: /metrics on either worker shows the counters of both summed, and the database gauges once', async (t) => {
  const dataDir = tempDir(t);
  const database = await freshDatabase('sqlite');
  t.teardown(() => database.drop());
  const server = startMain(t, base(dataDir, { DATABASE_URL: database.url, WORKERS: '2', OPEN_SIGNUP_ACTIVATION: 'true' }));
  const port = await listeningPort(server);

  // 6 accepted callbacks (new bindings) and 6 refused ones, each on a connection of its own: both workers take some.
  for (let i = 0; i < 6; i++) {
    const body = new URLSearchParams({
      oauth_consumer_key: `ck${String(i).repeat(30)}`,
      oauth_consumer_secret: `cs${'b'.repeat(30)}`,
      oauth_verifier: `vf${'c'.repeat(30)}`,
      store_base_url: 'http://127.0.0.1:9/store/',
    }).toString();
    t.is((await request(port, 'POST', '/magento/callback', `cb-ok-${i}`, body)).status, 200);
  }
  for (let i = 0; i < 6; i++) t.is((await request(port, 'POST', '/magento/callback', `cb-bad-${i}`, 'oauth_consumer_key=nope')).status, 400);
  await until('access-log lines of both workers', () => answeredBy(server, 'cb-ok-').size === 2);
  const perWorker = [...answeredBy(server, 'cb-ok-')].map((pid) => lines(server).filter((l) => l.msg === 'request' && l.pid === pid && l.callerRequestId?.startsWith('cb-ok-')).length);
  t.true(perWorker.every((n) => n < 6), `no single worker took every callback (${perWorker.join(', ')}): only a sum shows 6`);

  // Scrapes on connections of their own until both workers have answered one: each shows the whole group.
  for (let i = 0; i < 12 && answeredBy(server, 'scrape-').size < 2; i++) {
    const scrape = await request(port, 'GET', '/metrics', `scrape-${i}`);
    t.is(scrape.status, 200, scrape.body);
    t.is(series(scrape.body, 'connector_callbacks_total', 'outcome="accepted"'), 6, scrape.body);
    t.is(series(scrape.body, 'connector_callbacks_total', 'outcome="refused"'), 6);
    // Bindings by state are read from the database by each worker: counted once, not once per worker.
    const states = ['pending', 'request_token', 'active', 'failed', 'revoked'].map((state) => series(scrape.body, 'connector_activations', `state="${state}"`) ?? 0);
    t.is(states.reduce((a, b) => a + b, 0), 6, scrape.body);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the access-log line of the scrape
  }
  await until('scrapes answered by both workers', () => answeredBy(server, 'scrape-').size === 2);

  server.process.kill('SIGTERM');
  t.deepEqual(await server.exited, { code: 0, signal: null }, `${server.stdout()}\n${server.stderr()}`);
});
