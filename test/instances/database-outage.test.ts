// PostgreSQL stops under a running connector: readiness and every route that needs the database answer 503 with a
// clear message, nothing crashes or is half-written, and the service recovers by itself when the database returns.
// Needs the PostgreSQL server binaries (it runs a cluster of its own, so it can stop it).
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { migrate } from '../../src/storage/db.js';
import { activationUrlsFor, Browser, createAndActivate, finishInPopup, MERCHANT, startConnector, startMockStore, waitFor } from '../helpers/connector.js';

const run = promisify(execFile);
const script = new URL('../../scripts/postgres.sh', import.meta.url).pathname;
const inCi = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const serverPresent =
  existsSync('/usr/lib/postgresql') &&
  readdirSync('/usr/lib/postgresql').some((version) => existsSync(`/usr/lib/postgresql/${version}/bin/pg_ctl`));

if (!serverPresent) {
  if (inCi) throw new Error('PostgreSQL server binaries are missing, but CI is set: the outage test must run in CI');
  console.log('Database outage test skipped: PostgreSQL server binaries not found (apt-get install postgresql)');
  test.skip('Database outage test skipped: PostgreSQL server binaries not found (apt-get install postgresql)', () => {});
} else {
  test('PostgreSQL stops and starts again under a running connector', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'connector-outage-'));
    const port = String(56000 + Math.floor(Math.random() * 1000));
    const { stdout } = await run(script, ['start', dir, port]);
    const databaseUrl = stdout.trim().split('\n').at(-1)!;
    t.teardown(async () => {
      await run(script, ['stop', dir]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    });
    await migrate(databaseUrl);

    const mock = await startMockStore(t);
    const connector = await startConnector('postgresql', t, { databaseUrl });
    const services = connector.running.services;
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector);
    const merchantUrls = await activationUrlsFor(connector); // the merchant's own URLs, read while the database is up
    await waitFor('request token', async () => (await connector.binding(consumerKey))?.state === 'request_token');
    t.is((await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password)).status, 302);
    const binding = (await connector.binding(consumerKey))!;
    const { key } = await services.accounts.createApiKey(binding.accountId!);
    const api = (path: string) => fetch(`${connector.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    t.is((await api('/api/stores')).status, 200);

    await run(script, ['stop', dir]);

    const ready = await fetch(`${connector.url}/readyz`);
    t.is(ready.status, 503);
    t.is(ready.headers.get('x-connector-error'), 'database_unavailable');
    t.is((await fetch(`${connector.url}/healthz`)).status, 200, 'the process is up');

    const stores = await api('/api/stores');
    t.is(stores.status, 503);
    t.is(stores.headers.get('x-connector-error'), 'database_unavailable');
    t.regex(((await stores.json()) as { error: { message: string } }).error.message, /cannot reach its database/);

    // A callback during the outage is refused with 503 and leaves nothing behind.
    const lost = mock.admin.create({ name: 'during outage', ...merchantUrls });
    const during = await mock.admin.activate(lost.id);
    t.is(during.callback?.ok && 'status' in during.callback ? during.callback.status : null, 503);
    const popup = await fetch(during.popupUrl!);
    t.is(popup.status, 503);
    t.regex(await popup.text(), /cannot reach its database/);

    await run(script, ['start', dir, port]);
    await waitFor('readiness to come back', async () => (await fetch(`${connector.url}/readyz`)).status === 200, 20_000);
    t.is((await api('/api/stores')).status, 200);
    const proxied = await api(`/api/stores/${binding.id}/rest/V1/products/24-MB01`);
    t.is(proxied.status, 200);
    t.is(await connector.binding(lost.consumerKey), null, 'nothing half-written from the outage');
  });
}
