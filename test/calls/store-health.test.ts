// GET /api/stores/:id/health, the account page's health panel and `stores doctor`, for stores connected through the
// real activation against the mock store over HTTP: a healthy store (cached for 5 minutes, ?refresh=true runs it
// now), no grants, a wrong clock, a deleted integration, a store that upgraded (the new profile is stored). An
// expired certificate is the doctor's own test (test/doctor/doctor.test.ts): the connector's transport trusts only
// public authorities, so a test server with one cannot get past the TLS handshake either way.
import type { ExecutionContext } from 'ava';
import type { HealthCheck } from '../../src/doctor/types.js';
import type { SigningProfileName } from '../../src/protocol/signing-profiles.js';
import type { StoreHealthReport } from '../../src/store-api/health.js';
import { activatedStore, callApi, ours, type ActivatedStore } from '../helpers/activated.js';
import { runCli } from '../cli/process.js';
import { Browser, hiddenFields, testSecretsKey } from '../helpers/connector.js';
import { forEachBackend, type Backend } from '../helpers/db.js';

async function connected(backend: Backend, t: ExecutionContext, verifier: SigningProfileName = 'laminas', secretsKey?: string): Promise<ActivatedStore> {
  const a = await activatedStore(backend, t, { mock: { verifier }, keepProfile: true, ...(secretsKey ? { connector: { secretsKey } } : {}) });
  await a.connector.running.services.activation.drain();
  return a;
}

async function health(a: ActivatedStore, query = ''): Promise<StoreHealthReport> {
  const res = await callApi(`${a.connector.url}/api/stores/${a.storeId}/health${query}`, 'GET', a.apiKey);
  if (res.status !== 200) throw new Error(`health answered ${res.status}: ${res.text}`);
  return res.json as StoreHealthReport;
}
const check = (r: StoreHealthReport, name: HealthCheck['name']): HealthCheck => r.checks.find((c) => c.name === name)!;

forEachBackend((backend, test) => {
  test('a healthy store: the shape, the detected profile, cached until ?refresh=true; another account gets 404', async (t) => {
    const a = await connected(backend, t, 'native');
    a.mock.admin.update(a.integrationId, { resources: 'all' });
    const first = await health(a);
    t.deepEqual(Object.keys(first).sort(), ['checkedAt', 'checks', 'signing', 'storeId']);
    t.is(first.storeId, a.storeId);
    t.is(first.signing.profile, 'native');
    t.deepEqual(first.checks.map((c) => [c.name, c.status]), [
      ['reachable', 'ok'], ['clock', 'ok'], ['signing', 'ok'], ['token', 'ok'], ['resources', 'ok'], ['bearer', 'ok'], ['version', 'ok'],
    ], JSON.stringify(first.checks, null, 1));

    const before = a.mock.knobs.requests().length;
    const again = await health(a);
    t.deepEqual(again, first, 'served from the cache');
    t.is(a.mock.knobs.requests().length, before, 'nothing sent');

    a.connector.clock.advance(1_000);
    const fresh = await health(a, '?refresh=true');
    t.not(fresh.checkedAt, first.checkedAt);
    t.true(a.mock.knobs.requests().length > before);

    t.regex(ours(t, await callApi(`${a.connector.url}/api/stores/${a.storeId}/health?refresh=yes`, 'GET', a.apiKey), 400, 'request_refused'), /refresh must be true or false/);
    const other = await a.connector.running.services.accounts.signUp(`other-${a.storeId}@example.com`, 'correct horse battery staple');
    const { key } = await a.connector.running.services.accounts.createApiKey(other.id, 'other');
    ours(t, await callApi(`${a.connector.url}/api/stores/${a.storeId}/health`, 'GET', key), 404, 'store_not_found');
  });

  test('the doctor explains no grants, a wrong clock and a deleted integration', async (t) => {
    const a = await connected(backend, t);
    a.mock.admin.update(a.integrationId, { resources: [] });
    const none = await health(a, '?refresh=true');
    t.is(check(none, 'resources').status, 'fail');
    t.regex(check(none, 'resources').detail, /not granted: products, orders, customers, inventory, categories, store config/);
    t.regex(check(none, 'resources').fix!, /API tab/);
    t.is(check(none, 'signing').status, 'ok');

    a.mock.admin.update(a.integrationId, { resources: 'all' });
    a.mock.knobs.advanceClock(-900); // the store's clock 15 minutes behind ours
    const clock = await health(a, '?refresh=true');
    t.is(check(clock, 'clock').status, 'fail');
    t.regex(check(clock, 'clock').detail, /more than the 600 s Magento allows/);
    t.regex(check(clock, 'clock').fix!, /NTP/);
    t.is(clock.signing.profile, 'laminas', 'an undetermined detection keeps the stored profile');
    t.is((await a.connector.binding(a.consumerKey))!.signingProfile, 'laminas');
    a.mock.knobs.advanceClock(900);

    a.mock.admin.delete(a.integrationId);
    const gone = await health(a, '?refresh=true');
    t.is(check(gone, 'token').status, 'fail');
    t.regex(check(gone, 'token').detail, /A consumer having the specified key does not exist/);
    t.regex(check(gone, 'token').fix!, /Add New Integration/);
  });

  test('a store that upgraded: the doctor says so and the new profile is stored, in the timeline', async (t) => {
    const a = await connected(backend, t, 'laminas');
    a.mock.knobs.setVerifier('native');
    const report = await health(a, '?refresh=true');
    t.is(report.signing.profile, 'native');
    t.is(check(report, 'signing').status, 'warn');
    t.regex(check(report, 'signing').detail, /it was laminas .* it is now native .* the store was upgraded/);
    const binding = (await a.connector.binding(a.consumerKey))!;
    t.is(binding.signingProfile, 'native');
    const view = (await callApi(`${a.connector.url}/api/stores/${a.storeId}`, 'GET', a.apiKey)).json as { timeline: { kind: string; detail: string }[] };
    t.regex(view.timeline.find((e) => e.kind === 'profile_changed')?.detail ?? '', /from laminas to native \(doctor\)/);
  });

  test('the account page shows the profile, Check now (CSRF-checked, POST-redirect-GET), the checks and the timeline', async (t) => {
    const a = await connected(backend, t, 'laminas-double-encoding');
    const url = a.connector.url;
    const browser = new Browser();
    const login = await browser.get(`${url}/account/login`);
    t.is((await browser.post(`${url}/account/login`, { ...hiddenFields(login.text), email: a.email, password: a.password })).status, 302);
    const page = await browser.get(`${url}/account`);
    t.regex(page.text, /Signing profile: <strong class="profile">laminas-double-encoding<\/strong>/);
    t.regex(page.text, /Not checked recently\./);
    t.regex(page.text, /<span class="mono">detection<\/span>: activation: profile laminas-double-encoding/);
    const action = `${url}/account/stores/${a.storeId}/health`;
    t.true(page.text.includes(`action="/account/stores/${a.storeId}/health"`));

    const forged = await browser.post(action, { csrf: 'x' });
    t.is(forged.status, 403);
    const checked = await browser.post(action, { csrf: hiddenFields(page.text).csrf! });
    t.is(checked.status, 303, checked.text.slice(0, 300));
    t.is(checked.location, '/account');
    const after = await browser.get(`${url}/account`);
    t.regex(after.text, /checked: (everything is fine|\d+ failed, \d+ to look at)\./);
    t.regex(after.text, /<tr class="check-ok"><td>reachable<\/td>/);
    t.regex(after.text, /<tr class="check-warn"><td>resources<\/td><td class="status">warn<\/td><td>[^<]*not granted: store config/);
    t.regex(after.text, /Stores &gt; Settings &gt; All Stores/);
  });

  test('npm run cli -- stores doctor prints the table and exits with the worst status; --json prints the report', async (t) => {
    const secretsKey = testSecretsKey();
    const a = await connected(backend, t, 'native', secretsKey);
    const env = { DATABASE_URL: a.connector.databaseUrl, SECRETS_KEY: secretsKey, ALLOW_PRIVATE_STORE_URLS: 'true' };
    const table = await runCli(['stores', 'doctor', '--store', a.storeId], env);
    t.is(table.code, 1, table.stderr); // store config is not granted by default: a warning
    t.regex(table.stdout, new RegExp(`^store ${a.storeId}\\n`));
    t.regex(table.stdout, /signing profile native, detected /);
    t.regex(table.stdout, /resources\s+WARN\s+/);

    a.mock.admin.update(a.integrationId, { resources: 'all' });
    const json = await runCli(['stores', 'doctor', '--store', a.storeId, '--refresh', '--json'], env);
    t.is(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as StoreHealthReport;
    t.is(report.storeId, a.storeId);
    t.is(report.signing.profile, 'native');

    a.mock.admin.delete(a.integrationId);
    t.is((await runCli(['stores', 'doctor', '--store', a.storeId], env)).code, 2, 'a failed check');
    const unknown = await runCli(['stores', 'doctor', '--store', 'no-such-store'], env);
    t.is(unknown.code, 1);
    t.regex(unknown.stderr, /No store with this id/);
    t.is((await runCli(['stores', 'doctor'], env)).code, 2, 'usage');
  });
});
