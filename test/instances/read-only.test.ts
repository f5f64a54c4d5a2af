// A database that refuses writes (a read-only SQLite file, PostgreSQL with default_transaction_read_only) answers
// 503 database_unavailable on the API and the pages, and /readyz says why; and /readyz answers 503 with the reason
// when the secrets key cannot open what the database holds (another instance sealed it with another key).
// The read-only connector runs as a real process: as root, file modes do not stop writes, so it runs as `nobody`.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { Accounts } from '../../src/accounts/accounts.js';
import { systemClock } from '../../src/clock.js';
import { DEFAULT_DURATIONS, DEFAULT_LIMITS } from '../../src/config.js';
import { parseSecretsKey, Sealer } from '../../src/secrets/sealer.js';
import { openStorage } from '../../src/storage/db.js';
import { Browser, hiddenFields, startConnector, testSecretsKey } from '../helpers/connector.js';
import { forEachBackend, freshDatabase, rawQuery, type Backend } from '../helpers/db.js';
import { accountActivationToken } from '../../src/activation/account-urls.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const NOBODY = 65534;

/** A connector process (scripts/instance.mjs) on `databaseUrl`, as `nobody` when the tests run as root. */
async function spawnConnector(t: ExecutionContext, env: Record<string, string>): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  const child = spawn(process.execPath, [join(root, 'scripts/instance.mjs')], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ALLOW_PRIVATE_STORE_URLS: 'true', INSTANCE_SKIP_MIGRATE: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout! });
  return new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the connector exited with ${code}: ${stderr.slice(0, 2000)}`)));
    lines.on('line', (line) => {
      try {
        const url = (JSON.parse(line) as { url?: string }).url;
        if (url) resolve(url);
      } catch {
        // not the line we wait for
      }
    });
  });
}

/** A migrated database holding one account with an API key and its activation token, then made read-only. */
async function readOnlyDatabase(backend: Backend, t: ExecutionContext, secretsKey: string): Promise<{ url: string; apiKey: string; dataDir: string; token: string }> {
  const database = await freshDatabase(backend);
  const storage = await openStorage({ databaseUrl: database.url, sealer: new Sealer(parseSecretsKey(secretsKey)), poolSize: 1 });
  const accounts = new Accounts({ storage, clock: systemClock, durations: DEFAULT_DURATIONS, limits: DEFAULT_LIMITS });
  const account = await accounts.signUp('owner@example.com', 'correct horse battery staple');
  const { key } = await accounts.createApiKey(account.id);
  const token = await accountActivationToken({ storage, clock: systemClock }, account.id); // its Callback URL's (issue 13)
  await storage.close();
  const dataDir = mkdtempSync(join(tmpdir(), 'connector-readonly-'));
  chmodSync(dataDir, 0o777); // the folder stays writable (SQLite's -shm/-wal); the database file does not
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  if (backend === 'sqlite') {
    const source = database.url.replace(/^file:/, '');
    for (const suffix of ['-wal', '-shm']) if (existsSync(source + suffix)) throw new Error(`${source}${suffix} left open`);
    const file = join(dataDir, 'connector.db');
    copyFileSync(source, file);
    chmodSync(file, 0o444);
    return { url: `file:${file}`, apiKey: key, dataDir, token };
  }
  const name = decodeURIComponent(new URL(database.url).pathname.slice(1));
  await rawQuery(backend, database.url, `ALTER DATABASE "${name}" SET default_transaction_read_only = on`);
  return { url: database.url, apiKey: key, dataDir, token };
}

forEachBackend((backend, test) => {
  test('a database that refuses writes: 503 database_unavailable on the API and the pages, /readyz 503 with the reason', async (t) => {
    const secretsKey = testSecretsKey();
    const { url: databaseUrl, apiKey, dataDir, token } = await readOnlyDatabase(backend, t, secretsKey);
    const url = await spawnConnector(t, { DATABASE_URL: databaseUrl, SECRETS_KEY: secretsKey, DATA_DIR: dataDir });

    t.is((await fetch(`${url}/healthz`)).status, 200, 'the process is up');
    const ready = await fetch(`${url}/readyz`);
    t.is(ready.status, 503);
    t.is(ready.headers.get('x-connector-error'), 'database_unavailable');
    const readyBody = (await ready.json()) as { error: { message: string } };
    t.regex(readyBody.error.message, /refuses writes \(read-only\)/);

    // Reads still work (the API key is found, the account's stores listed)...
    const list = await fetch(`${url}/api/stores`, { headers: { authorization: `Bearer ${apiKey}` } });
    t.is(list.status, 200, await list.clone().text());
    // ... and a write is refused: Magento's callback must insert a binding, and gets a 503 in our shape, not a 500.
    const callback = await fetch(`${url}/magento/callback/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        oauth_consumer_key: 'a'.repeat(32),
        oauth_consumer_secret: 'b'.repeat(32),
        store_base_url: 'https://shop.example.com/',
        oauth_verifier: 'c'.repeat(32),
      }).toString(),
    });
    t.is(callback.status, 503, await callback.clone().text());
    t.is(callback.headers.get('x-connector-error'), 'database_unavailable');
    t.truthy(callback.headers.get('retry-after'));

    // The sign-in form counts the attempt first: the page says we are having trouble, with a 503.
    const browser = new Browser();
    const page = await browser.get(`${url}/account/login`);
    t.is(page.status, 200);
    const signIn = await browser.post(`${url}/account/login`, { ...hiddenFields(page.text), email: 'owner@example.com', password: 'correct horse battery staple' });
    t.is(signIn.status, 503, signIn.text.slice(0, 300));
    t.regex(signIn.headers.get('content-type') ?? '', /text\/html/);
    t.regex(signIn.text, /We are having trouble right now/);
  });

  test('/readyz answers 503 with the reason once the database holds a secret this instance\'s key cannot open', async (t) => {
    const first = await startConnector(backend, t, { secretsKey: testSecretsKey() });
    // Another instance, same database, another key under the same id (a misconfigured deployment).
    const second = await startConnector(backend, t, { secretsKey: testSecretsKey(), databaseUrl: first.databaseUrl });
    t.is((await fetch(`${first.url}/readyz`)).status, 200, 'nothing sealed yet');

    const created = await second.running.services.storage.bindings.create({
      id: randomUUID(),
      consumerKey: 'k'.repeat(32),
      storeBaseUrl: 'http://127.0.0.1:9',
      state: 'request_token',
      consumerSecret: 's'.repeat(32),
      verifier: null,
      callbackAt: second.clock.now(),
    });
    t.truthy(created);
    first.clock.advance(60_000); // past the readiness verdict's 10 s
    const ready = await fetch(`${first.url}/readyz`);
    t.is(ready.status, 503);
    t.is(ready.headers.get('x-connector-error'), 'secrets_unavailable');
    t.regex(((await ready.json()) as { error: { message: string } }).error.message, /does not open the secrets in the database/);
    t.is((await fetch(`${second.url}/readyz`)).status, 200, 'the instance whose key sealed it is ready');
  });
});
