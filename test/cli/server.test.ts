// The service as a process: `npm start` is the process that gets SIGTERM and stops cleanly (in-flight requests
// finish, stuck ones are cut after SHUTDOWN_GRACE_MS); a busy port, bad configuration or a key that cannot open the
// database's secrets end in one line and a non-zero exit; DATA_DIR holds both the database and the key file; the
// start-up output is a few lines, with no third-party warnings.
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { freshDatabase } from '../helpers/db.js';
import { callbackForm, listeningPort, runMain, start, startMain, type Started } from './process.js';

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'connector-main-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const base = (dataDir: string, more: Record<string, string> = {}) => ({ DATA_DIR: dataDir, PORT: '0', ALLOW_PRIVATE_STORE_URLS: 'true', ...more });

/** A migrated database of its own (a copy of a template: Prisma's CLI takes seconds per migration run). */
async function migrated(t: ExecutionContext): Promise<string> {
  const database = await freshDatabase('sqlite');
  t.teardown(() => database.drop());
  return database.url;
}

/** SIGTERM, then a clean exit 0 (not death by the signal: the server handles it). */
async function stops(t: ExecutionContext, server: Started): Promise<void> {
  server.process.kill('SIGTERM');
  t.deepEqual(await server.exited, { code: 0, signal: null }, `${server.stdout()}\n${server.stderr()}`);
}

async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

test('npm start: DATA_DIR holds the database and the key; SIGTERM to npm stops the server itself; quiet output', async (t) => {
  const dataDir = tempDir(t);
  const server = start(t, 'npm', ['start'], base(dataDir, { LOG_FORMAT: 'json' }));
  const port = await listeningPort(server);
  t.true(existsSync(join(dataDir, 'connector.db')), 'the SQLite file is in DATA_DIR');
  t.true(existsSync(join(dataDir, 'secrets.key')), 'the generated key is in DATA_DIR');
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.is(health.status, 200);

  server.process.kill('SIGTERM'); // the npm process, as a process manager would
  const { code } = await server.exited;
  t.is(code, 0, server.stderr());
  t.true(await refused(port), 'nothing listens any more: the server did not outlive npm');

  const lines = server.stdout().split('\n').filter((l) => l.trim() && !l.startsWith('>'));
  for (const line of lines) t.notThrows(() => JSON.parse(line), `LOG_FORMAT=json: every log line is JSON: ${line}`);
  const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  t.true(messages.some((m) => /^applying database migrations$/.test(m)));
  t.true(messages.some((m) => /^shutting down$/.test(m)) && messages.includes('stopped'), messages.join('\n'));
  t.true(lines.length <= 6, `a few lines:\n${lines.join('\n')}`);
  const all = server.stdout() + server.stderr();
  t.notRegex(all, /Prisma|prisma\.config|NOT be used/, 'no third-party notes');
  t.is(server.stderr(), '');
});

test('shutdown: a request in flight finishes after SIGTERM; a stuck connection is cut after SHUTDOWN_GRACE_MS', async (t) => {
  const dataDir = tempDir(t);
  // OPEN_SIGNUP_ACTIVATION: the callback below goes to the shared Callback URL (issue 13).
  const server = startMain(t, base(dataDir, { DATABASE_URL: await migrated(t), LOG_FORMAT: 'json', SHUTDOWN_GRACE_MS: '1500', OPEN_SIGNUP_ACTIVATION: 'true' }));
  const port = await listeningPort(server);

  // A callback whose body is still arriving when the signal comes: the handler is running.
  const body = callbackForm(1).toString();
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let answer = '';
  socket.on('data', (c: Buffer) => (answer += c.toString('utf8')));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(
    `POST /magento/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Expect: 100-continue\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
  );
  // Node answers 100 Continue once it has parsed the request: from then on the request is in flight.
  await new Promise<void>((resolve) => {
    const seen = () => (answer.includes('100 Continue') ? resolve() : socket.once('data', seen));
    socket.once('data', seen);
  });
  socket.write(body.slice(0, 10));
  // A second connection that sent half its headers and nothing more: it must not hold the shutdown forever.
  const stuck = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => stuck.once('connect', () => resolve()));
  stuck.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  stuck.on('error', () => {});

  server.process.kill('SIGTERM');
  await server.line(/shutting down/);
  t.true(await refused(port), 'no new connections once shutting down');
  // The rest of the body, without half-closing the socket: node's HTTP server (httpAllowHalfOpen false) drops a
  // request whose client half-closes before the answer is written, shutdown or not (an answer that waits for a
  // database round trip, as every one on PostgreSQL does, would never be seen).
  socket.write(body.slice(10));
  await new Promise<void>((resolve) => {
    const answered = () => (/\r\n\r\nHTTP\/1\.1 \d{3} /.test(answer) ? resolve() : socket.once('data', answered));
    answered();
  });
  socket.end();
  await ended;
  t.regex(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 (200|202|204) /, `the in-flight callback was answered: ${answer.slice(0, 200)}`);

  // Exit 0, not the hard stop (exit 1 after the grace plus 5 s): the stuck connection was cut at the grace.
  const { code } = await server.exited;
  t.is(code, 0, server.stderr());
});

test('a second server on a busy port says so in one line and exits 1', async (t) => {
  const dataDir = tempDir(t);
  const databaseUrl = await migrated(t);
  const first = startMain(t, base(dataDir, { DATABASE_URL: databaseUrl, LOG_FORMAT: 'json' }));
  const port = await listeningPort(first);
  const second = await runMain(base(dataDir, { DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_FORMAT: 'json' }));
  t.is(second.code, 1);
  t.is(second.stdout, '', 'nothing logged before the port was tried');
  t.regex(second.stderr, new RegExp(`^cannot start: port ${port} is already in use on 127\\.0\\.0\\.1 [^\\n]*\\n$`));
  await stops(t, first);
});

test('HOST is the listen address: one that is not this machine\'s is one line, exit 1', async (t) => {
  const dataDir = tempDir(t);
  const databaseUrl = await migrated(t);
  const loopback = startMain(t, base(dataDir, { DATABASE_URL: databaseUrl, HOST: '127.0.0.1', LOG_FORMAT: 'json' }));
  const line = JSON.parse(await loopback.line(/connector listening on/)) as { host: string; port: number };
  t.is(line.host, '127.0.0.1');
  t.is((await fetch(`http://127.0.0.1:${line.port}/healthz`)).status, 200);
  await stops(t, loopback);

  const foreign = await runMain(base(dataDir, { DATABASE_URL: databaseUrl, HOST: '192.0.2.7', LOG_FORMAT: 'json' })); // TEST-NET-1: never ours
  t.is(foreign.code, 1, foreign.stderr);
  t.regex(foreign.stderr, /^cannot start: HOST 192\.0\.2\.7 is not an address of this machine[^\n]*\n$/);
});

test('bad configuration: one line, exit 2, before any database file is made', async (t) => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['malformed SECRETS_KEY', { SECRETS_KEY: 'k1:tooshort' }, /^SECRETS_KEY entry 1 of 1 \(id "k1"\): the key is not 32 bytes of base64\./],
    ['SECRETS_KEY without an id', { SECRETS_KEY: randomBytes(32).toString('base64') }, /has no key id/],
    ['PORT not a number', { PORT: 'eighty' }, /^invalid environment: PORT: /],
    ['unknown LOG_FORMAT', { LOG_FORMAT: 'xml' }, /^invalid environment: LOG_FORMAT: /],
    ['DATABASE_URL of no backend', { DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must start with file: /],
  ];
  for (const [what, env, message] of cases) {
    const dataDir = tempDir(t);
    const result = await runMain(base(dataDir, env));
    t.is(result.code, 2, `${what}: ${result.stderr}`);
    t.regex(result.stderr, message, what);
    t.is(result.stderr.trim().split('\n').length, 1, `${what}: one line, no stack: ${result.stderr}`);
    t.is(result.stdout, '', what);
    t.false(existsSync(join(dataDir, 'connector.db')), `${what}: checked before migrations`);
    t.false(existsSync(join(dataDir, 'secrets.key')), `${what}: no key generated`);
  }
});

test('a lost key file or a wrong SECRETS_KEY with sealed data in the database: refused, the key id named, no key generated', async (t) => {
  const dataDir = tempDir(t);
  // OPEN_SIGNUP_ACTIVATION: the callback below goes to the shared Callback URL (issue 13).
  const env = base(dataDir, { DATABASE_URL: await migrated(t), LOG_FORMAT: 'json', OPEN_SIGNUP_ACTIVATION: 'true' });
  const first = startMain(t, env);
  const port = await listeningPort(first);
  const answer = await fetch(`http://127.0.0.1:${port}/magento/callback`, { method: 'POST', body: callbackForm(2) });
  t.true(answer.ok, `the callback was stored: ${answer.status}`);
  await stops(t, first);

  const keyFile = join(dataDir, 'secrets.key');
  const original = readFileSync(keyFile, 'utf8').trim();
  const [id, key] = original.split(':') as [string, string];
  t.is(id, 'local');

  unlinkSync(keyFile);
  const lost = await runMain(env);
  t.is(lost.code, 2, lost.stderr);
  t.regex(lost.stderr, /^cannot start: \S*secrets\.key is missing, and the database holds secrets sealed with key "local": restore that file/);
  t.is(lost.stderr.trim().split('\n').length, 1, lost.stderr);
  t.false(existsSync(keyFile), 'no key was generated in its place');

  const other = await runMain({ ...env, SECRETS_KEY: `k2:${randomBytes(32).toString('base64')}` });
  t.is(other.code, 2);
  t.regex(other.stderr, /^cannot start: the database holds secrets sealed with key "local", which SECRETS_KEY does not have \(it has: k2\): add "local:<that key>"/);

  const wrong = await runMain({ ...env, SECRETS_KEY: `local:${randomBytes(32).toString('base64')}` });
  t.is(wrong.code, 2);
  t.regex(wrong.stderr, /^cannot start: the key "local" in SECRETS_KEY does not open the secrets in the database/);

  // The right key, as SECRETS_KEY (a rotation: a new sealing key first) and as the restored file: it starts.
  const rotated = startMain(t, { ...env, SECRETS_KEY: `k2:${randomBytes(32).toString('base64')},local:${key}` });
  await listeningPort(rotated);
  await stops(t, rotated);
  writeFileSync(keyFile, `${original}\n`, { mode: 0o600 });
  const restored = startMain(t, env);
  await listeningPort(restored);
  await stops(t, restored);
});

test('LOG_FORMAT=pretty prints readable lines, not JSON', async (t) => {
  const dataDir = tempDir(t);
  const server = startMain(t, base(dataDir, { DATABASE_URL: await migrated(t), LOG_FORMAT: 'pretty' }));
  const line = await server.line(/connector listening on/);
  t.throws(() => JSON.parse(line));
  t.regex(line, /INFO.*connector listening on http:\/\/localhost:/);
  t.regex(server.stdout(), /WARN.*SECRETS_KEY is not set/);
  await stops(t, server);
});
