// The store doctor against the mock store over HTTP: a healthy store on each verifier, no grants, a wrong clock, TLS
// certificates (expired, self-signed, wrong host), a deleted integration, an upgrade, Bearer on/off, magento_version
// present/absent, and the per-store guard and cache.
import test from 'ava';
import http from 'node:http';
import type { ExecutionContext } from 'ava';
import { runDoctor } from '../../src/doctor/doctor.js';
import { DOCTOR_CACHE_TTL_MS, StoreDoctor } from '../../src/doctor/store-doctor.js';
import { CHECK_NAMES, type DoctorInput, type DoctorResult, type HealthCheck } from '../../src/doctor/types.js';
import type { MockStore } from '../../src/mock-store/app.js';
import type { SigningProfileName } from '../../src/protocol/signing-profiles.js';
import type { Transport } from '../../src/protocol/transport.js';
import { activeIntegration, certificate, startStore, transport, type Active } from '../helpers/store-doctor.js';

const input = (a: Active, profile: SigningProfileName | null = null, extra: Partial<DoctorInput> = {}): DoctorInput => ({
  ...a.keys,
  profile,
  ...extra,
});
const check = (r: DoctorResult, name: HealthCheck['name']): HealthCheck => r.report.checks.find((c) => c.name === name)!;
const statuses = (r: DoctorResult) => Object.fromEntries(r.report.checks.map((c) => [c.name, c.status]));

async function doctor(t: ExecutionContext, store: MockStore, a: Active, profile: SigningProfileName | null = null, tr?: Transport) {
  return runDoctor({ transport: tr ?? transport(t) }, input(a, profile));
}

for (const verifier of ['laminas', 'laminas-double-encoding', 'native'] as const) {
  test(`a healthy store (${verifier}): every check ok, the shape of GET /api/stores/:id/health minus storeId`, async (t) => {
    const store = await startStore(t, { verifier });
    const a = await activeIntegration(store, { resources: 'all' });
    const result = await doctor(t, store, a);
    t.deepEqual(Object.keys(result.report).sort(), ['checkedAt', 'checks', 'signing']);
    t.deepEqual(result.report.checks.map((c) => c.name), [...CHECK_NAMES]);
    t.deepEqual(Object.values(statuses(result)), CHECK_NAMES.map(() => 'ok'), JSON.stringify(result.report.checks, null, 1));
    t.is(result.report.signing.profile, verifier);
    t.is(typeof result.report.signing.detectedAt, 'string');
    t.false(Number.isNaN(Date.parse(result.report.checkedAt)));
    for (const c of result.report.checks) {
      t.deepEqual(Object.keys(c).filter((k) => !['name', 'status', 'detail', 'fix'].includes(k)), []);
      t.false(c.detail.includes(a.keys.consumerSecret) || c.detail.includes(a.keys.accessToken.secret), 'no secret in a detail');
    }
    t.regex(check(result, 'resources').detail, /granted: products, orders, customers, inventory, categories, store config/);
    t.regex(check(result, 'version').detail, /^Magento\/2\.4 \(Community\)/);
  });
}

test('a store with no grants: resources fails naming each resource in the admin words; the signature still verifies', async (t) => {
  const store = await startStore(t, { verifier: 'native' });
  const a = await activeIntegration(store, { resources: [] });
  const result = await doctor(t, store, a);
  const resources = check(result, 'resources');
  t.is(resources.status, 'fail');
  t.regex(resources.detail, /not granted: products, orders, customers, inventory, categories, store config/);
  t.regex(resources.fix!, /System > Extensions > Integrations, edit the integration, open its API tab/);
  t.regex(resources.fix!, /Catalog > Inventory > Products \(Magento_Catalog::products\)/);
  t.is(check(result, 'signing').status, 'ok');
  t.is(check(result, 'token').status, 'ok');
  t.is(result.report.signing.profile, 'native');
  t.regex(check(result, 'bearer').detail, /Not known: the integration has no granted resource/);
});

test('the default grants: store config is the one resource not granted (warn, with the fix)', async (t) => {
  const store = await startStore(t);
  const a = await activeIntegration(store);
  const resources = check(await doctor(t, store, a), 'resources');
  t.is(resources.status, 'warn');
  t.regex(resources.detail, /not granted: store config/);
  t.regex(resources.fix!, /Stores > Settings > All Stores \(Magento_Backend::store\)/);
});

test('a wrong clock: ours far ahead of the store fails clock and signing; the store ahead of ours only warns', async (t) => {
  const store = await startStore(t);
  const a = await activeIntegration(store);
  store.knobs.advanceClock(-900); // the store's clock is 15 minutes behind ours
  const behind = await doctor(t, store, a);
  t.is(check(behind, 'clock').status, 'fail');
  t.regex(check(behind, 'clock').detail, /ours is 9\d\d s ahead, more than the 600 s Magento allows/);
  t.regex(check(behind, 'clock').fix!, /NTP/);
  t.is(check(behind, 'signing').status, 'fail');
  t.regex(check(behind, 'signing').detail, /timestamp/);
  t.is(behind.detection?.profile, null);

  store.knobs.advanceClock(900 + 3600); // now an hour ahead of ours: accepted, but worth a warning
  const ahead = await doctor(t, store, a);
  t.is(check(ahead, 'clock').status, 'warn');
  t.regex(check(ahead, 'clock').detail, /the store's is 3\d\d\d s ahead of ours/);
  t.is(check(ahead, 'signing').status, 'ok');
});

test('TLS: an expired certificate, a self-signed one and one for another host each fail reachable with the fix', async (t) => {
  const expired = certificate(t, { expired: true });
  const old = await startStore(t, { tls: expired });
  const a = await activeIntegration(old);
  const r1 = await runDoctor({ transport: transport(t, { ca: expired.cert }) }, input(a));
  t.is(check(r1, 'reachable').status, 'fail');
  t.regex(check(r1, 'reachable').detail, /certificate of 127\.0\.0\.1:\d+ has expired/);
  t.regex(check(r1, 'reachable').fix!, /Renew the certificate/);
  t.deepEqual(Object.values(statuses(r1)).slice(1), CHECK_NAMES.slice(1).map(() => 'warn'), 'the rest not checked');
  t.is(r1.detection, null);

  const selfSigned = certificate(t);
  const self = await startStore(t, { tls: selfSigned });
  const r2 = await runDoctor({ transport: transport(t) }, input(await activeIntegration(self)));
  t.regex(check(r2, 'reachable').detail, /self-signed/);
  t.regex(check(r2, 'reachable').fix!, /public certificate authority/);

  const otherHost = certificate(t, { host: 'shop.example.com' });
  const wrong = await startStore(t, { tls: otherHost });
  const r3 = await runDoctor({ transport: transport(t, { ca: otherHost.cert }) }, input(await activeIntegration(wrong)));
  t.regex(check(r3, 'reachable').detail, /issued for another host name/);

  // The same certificate, valid and trusted: HTTPS works end to end (signed as https).
  const good = await runDoctor({ transport: transport(t, { ca: selfSigned.cert }) }, input(await activeIntegration(self)));
  t.is(check(good, 'reachable').status, 'ok');
  t.is(check(good, 'signing').status, 'ok');
});

test('unreachable: nothing listens; DNS not found', async (t) => {
  const store = await startStore(t);
  const a = await activeIntegration(store);
  const port = new URL(store.baseUrl).port;
  await store.close();
  const down = await runDoctor({ transport: transport(t) }, { ...input(a), storeBaseUrl: `http://127.0.0.1:${port}/` });
  t.is(check(down, 'reachable').status, 'fail');
  t.regex(check(down, 'reachable').detail, /refused the connection/);
  const dns = await runDoctor({ transport: transport(t, { resolve: async () => [] }) }, { ...input(a), storeBaseUrl: 'https://no-such-shop.example/' });
  t.regex(check(dns, 'reachable').detail, /not found in DNS/);
});

test('a deleted integration: token fails with "create it again"; a reauthorized one with Reauthorize', async (t) => {
  const store = await startStore(t);
  const a = await activeIntegration(store);
  store.admin.delete(a.id);
  const deleted = await doctor(t, store, a, 'laminas');
  const token = check(deleted, 'token');
  t.is(token.status, 'fail');
  t.regex(token.detail, /A consumer having the specified key does not exist/);
  t.regex(token.fix!, /Add New Integration/);
  t.is(check(deleted, 'signing').status, 'warn');
  t.regex(check(deleted, 'signing').detail, /^Not checked/);
  t.is(deleted.report.signing.profile, 'laminas', 'the known profile stays');

  const b = await activeIntegration(store);
  await store.admin.reauthorize(b.id); // mints new tokens: ours is dead
  const reauthorized = check(await doctor(t, store, b), 'token');
  t.is(reauthorized.status, 'fail');
  t.regex(reauthorized.detail, /Specified token does not exist/);
  t.regex(reauthorized.fix!, /click Reauthorize on the integration \(Magento shows Reauthorize only for an Active integration/);
});

test('a store that upgraded: signing warns with old and new profile; the detection is returned for the caller to store', async (t) => {
  const store = await startStore(t, { verifier: 'laminas' });
  const a = await activeIntegration(store);
  const before = await runDoctor({ transport: transport(t) }, input(a, 'laminas', { profileDetectedAt: new Date('2026-11-01T00:00:00Z') }));
  t.is(check(before, 'signing').status, 'ok');
  store.knobs.setVerifier('native');
  const after = await runDoctor(
    { transport: transport(t) },
    input(a, 'laminas', { profileDetectedAt: new Date('2026-11-01T00:00:00Z'), lastSignedCall: { at: new Date('2026-12-01T09:00:00Z'), verified: false, message: 'The signature is invalid. Verify and try again.' } }),
  );
  const signing = check(after, 'signing');
  t.is(signing.status, 'warn');
  t.regex(signing.detail, /it was laminas \(Magento 2\.4\.4 to 2\.4\.7, detected 2026-11-01T00:00:00\.000Z\), it is now native/);
  t.regex(signing.detail, /The last signed call \(2026-12-01T09:00:00\.000Z\) was refused/);
  t.is(after.report.signing.profile, 'native');
  t.is(after.detection?.profile, 'native');
  t.is(check(after, 'resources').status, 'warn', 'resources signed for the new profile still verify');
});

test('Bearer: reported on and off, never a warning', async (t) => {
  const store = await startStore(t);
  const a = await activeIntegration(store);
  const off = check(await doctor(t, store, a), 'bearer');
  t.is(off.status, 'ok');
  t.regex(off.detail, /^Off: .*Allow OAuth Access Tokens to be used as standalone Bearer tokens/);
  store.knobs.setSettings({ allowIntegrationBearer: true });
  const on = check(await doctor(t, store, a), 'bearer');
  t.is(on.status, 'ok');
  t.regex(on.detail, /^On: the store accepts the access token as a standalone Bearer token \(tried on products\)/);
});

test('magento_version present, custom, absent', async (t) => {
  const store = await startStore(t, { magentoVersion: 'Magento/2.4 (Enterprise)' });
  const a = await activeIntegration(store);
  t.regex(check(await doctor(t, store, a), 'version').detail, /^Magento\/2\.4 \(Enterprise\)/);
  store.knobs.setSettings({ magentoVersion: null });
  const hidden = check(await doctor(t, store, a), 'version');
  t.is(hidden.status, 'ok');
  t.regex(hidden.detail, /does not expose magento_version \(HTTP 404\)/);
  store.knobs.setSettings({ magentoVersion: 'Magento/2.3 (Community)' });
  t.is(check(await doctor(t, store, a), 'version').status, 'warn');
});

test('a redirecting base URL warns and lists the hops', async (t) => {
  const store = await startStore(t);
  const a = await activeIntegration(store);
  const server = http.createServer((req, res) => {
    res.writeHead(301, { Location: store.baseUrl });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  const r = await runDoctor({ transport: transport(t) }, { ...input(a), storeBaseUrl: `http://127.0.0.1:${port}/` });
  const reach = check(r, 'reachable');
  t.is(reach.status, 'warn');
  t.true(reach.detail.includes(`301 -> ${store.baseUrl}`), reach.detail);
  t.regex(reach.fix!, /Reauthorize/);
});

test('a proxy that drops the Authorization header: signing fails with the fix, grants and token are not known', async (t) => {
  const store = await startStore(t);
  const a = await activeIntegration(store, { resources: 'all' });
  const target = new URL(store.baseUrl);
  const proxy = http.createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.authorization;
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  const port = (proxy.address() as { port: number }).port;
  const r = await runDoctor({ transport: transport(t) }, { ...input(a), storeBaseUrl: `http://127.0.0.1:${port}/` });
  t.is(r.detection?.profile === null && r.detection.reason, 'authorization_not_seen');
  t.is(check(r, 'signing').status, 'fail');
  t.regex(check(r, 'signing').fix!, /HTTP_AUTHORIZATION/);
  t.is(check(r, 'token').status, 'warn');
  t.is(check(r, 'resources').status, 'warn');
  t.regex(check(r, 'resources').detail, /^not known/);
});

test('StoreDoctor: one run at a time per store, cached for 5 minutes, refresh runs again, new credentials are not served old reports', async (t) => {
  t.is(DOCTOR_CACHE_TTL_MS, 300_000);
  const store = await startStore(t);
  const a = await activeIntegration(store);
  let now = Date.now();
  let runs = 0;
  const doctor = new StoreDoctor({
    transport: transport(t),
    clock: { now: () => new Date(now) },
    run: (o, i) => {
      runs++;
      return runDoctor(o, i);
    },
  });
  const together = await Promise.all([doctor.check('s1', input(a)), doctor.check('s1', input(a)), doctor.check('s1', input(a), { refresh: true })]);
  t.is(runs, 1, 'the second and third join the run in flight');
  t.true(together.every((r) => !r.cached && r.report === together[0]!.report));
  t.true((await doctor.check('s1', input(a))).cached);
  t.is(runs, 1);
  now += DOCTOR_CACHE_TTL_MS - 1000;
  t.true((await doctor.check('s1', input(a))).cached);
  now += 2000;
  t.false((await doctor.check('s1', input(a))).cached);
  t.is(runs, 2);
  t.false((await doctor.check('s1', input(a), { refresh: true })).cached);
  t.is(runs, 3);
  const b = await activeIntegration(store);
  t.false((await doctor.check('s1', input(b))).cached, 'other credentials: a new run');
  await doctor.check('s2', input(a));
  t.is(runs, 5, 'stores are independent');
  doctor.forget('s2');
  t.is(doctor.cached('s2'), undefined);
});

test('concurrency is bounded within one run', async (t) => {
  const store = await startStore(t);
  const a = await activeIntegration(store, { resources: 'all' });
  const real = transport(t);
  let inFlight = 0;
  let most = 0;
  const counting: Transport = {
    async request(req) {
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        return await real.request(req);
      } finally {
        inFlight--;
      }
    },
    close() {},
  };
  const r = await runDoctor({ transport: counting, concurrency: 2 }, input(a));
  t.is(check(r, 'resources').status, 'ok');
  t.true(most <= 2, `at most 2 at once, saw ${most}`);
});
