// What a store doctor reads from the mock: resource grants, the Bearer setting, the Date header from the mock's
// clock, GET magento_version, HTTPS with a given certificate, and integrations without URLs (Integration Details).
import test from 'ava';
import type { ExecutionContext } from 'ava';
import https from 'node:https';
import type { MockStore, MockStoreOptions } from '../../src/mock-store/app.js';
import { certificate } from '../helpers/tls.js';
import { callbackReceiver, fullyActivate, json, raw, signed, startStore, type Creds } from './helpers.js';
import { sign } from './signer.js';

async function activeStore(t: ExecutionContext, options: MockStoreOptions = {}): Promise<{ store: MockStore; creds: Creds; id: number }> {
  const store = await startStore(t, options);
  const { creds, integration } = await fullyActivate(store, await callbackReceiver(t));
  return { store, creds, id: integration.id };
}

const refused = (resources: string) => ({ message: "The consumer isn't authorized to access %resources.", parameters: { resources } });

test('grants: short names map to ACL ids; a refused resource names it; PATCH changes the grants at runtime', async (t) => {
  const { store, creds, id } = await activeStore(t);
  t.deepEqual(store.admin.get(id).resources, [
    'Magento_Catalog::products',
    'Magento_Customer::customer',
    'Magento_Sales::actions_view',
    'Magento_Catalog::categories',
    'Magento_CatalogInventory::cataloginventory',
    'Magento_Logging::system_magento_logging_bulk_operations',
  ]);
  const base = `${store.baseUrl}rest/V1/`;
  t.is((await signed('GET', `${base}categories`, creds)).status, 200);
  t.is((await signed('GET', `${base}stockItems/24-MB01`, creds)).status, 200);
  const views = await signed('GET', `${base}store/storeViews`, creds);
  t.is(views.status, 401);
  t.deepEqual(json(views), refused('Magento_Backend::store'));

  const patched = await raw({
    method: 'PATCH',
    url: `${store.adminUrl}api/integrations/${id}`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ resources: ['orders', 'storeViews'] }),
  });
  t.is(patched.status, 200);
  t.deepEqual((json(patched) as { resources: string[] }).resources, ['Magento_Sales::actions_view', 'Magento_Backend::store']);
  t.is((await signed('GET', `${base}store/storeViews`, creds)).status, 200);
  t.deepEqual(json(await signed('GET', `${base}customers/1`, creds)), refused('Magento_Customer::customer'));
  t.deepEqual(json(await signed('GET', `${base}stockItems/24-MB01`, creds)), refused('Magento_CatalogInventory::cataloginventory'));
  t.deepEqual(json(await signed('GET', `${base}categories`, creds)), refused('Magento_Catalog::categories'));

  store.admin.update(id, { resources: 'all' });
  t.is((await signed('GET', `${base}store/storeConfigs`, creds)).status, 200);
  store.admin.update(id, { resources: [] });
  t.deepEqual(json(await signed('GET', `${base}orders/1`, creds)), refused('Magento_Sales::actions_view'));
});

test('Bearer: off by default (the token is a guest: 401 not authorized); on, the access token works', async (t) => {
  const { store, creds } = await activeStore(t);
  const url = `${store.baseUrl}rest/V1/customers/1`;
  const bearer = { Authorization: `Bearer ${creds.token}` };
  const off = await raw({ method: 'GET', url, headers: bearer });
  t.is(off.status, 401);
  t.deepEqual(json(off), refused('Magento_Customer::customer'));
  store.knobs.setSettings({ allowIntegrationBearer: true });
  const on = await raw({ method: 'GET', url, headers: bearer });
  t.is(on.status, 200);
  t.is((json(on) as { id: number }).id, 1);
  const unknown = await raw({ method: 'GET', url, headers: { Authorization: `Bearer ${'z'.repeat(32)}` } });
  t.deepEqual(json(unknown), refused('Magento_Customer::customer'));
  const wrongShape = await raw({ method: 'GET', url, headers: { Authorization: `Bearer  ${creds.token}` } });
  t.is(wrongShape.status, 401, 'exactly "Bearer <token>"');
});

test('Bearer can start on (allowIntegrationBearer option) and /__mock/settings turns it off', async (t) => {
  const { store, creds } = await activeStore(t, { allowIntegrationBearer: true });
  const url = `${store.baseUrl}rest/V1/customers/1`;
  t.is((await raw({ method: 'GET', url, headers: { Authorization: `Bearer ${creds.token}` } })).status, 200);
  const res = await raw({
    method: 'POST',
    url: `${store.adminUrl.replace(/admin\/$/, '')}__mock/settings`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ allowIntegrationBearer: false }),
  });
  t.is((json(res) as { allowIntegrationBearer: boolean }).allowIntegrationBearer, false);
  t.is((await raw({ method: 'GET', url, headers: { Authorization: `Bearer ${creds.token}` } })).status, 401);
});

test('every answer carries a Date from the mock clock (REST, token endpoints, admin, 404)', async (t) => {
  const store = await startStore(t);
  store.knobs.advanceClock(3600);
  const expected = store.clock.now().getTime();
  for (const url of [`${store.baseUrl}rest/V1/customers/1`, `${store.baseUrl}oauth/token/request`, store.adminUrl, `${store.baseUrl}nothing`]) {
    const res = await raw({ method: url.includes('oauth') ? 'POST' : 'GET', url });
    const date = Date.parse(res.headers.date ?? '');
    t.true(Math.abs(date - expected) < 120_000, `${url}: ${res.headers.date}`);
    t.true(date - Date.now() > 3000_000, 'an hour ahead of the real clock');
  }
});

test('GET magento_version answers like Magento; configurable; false = 404', async (t) => {
  const plain = await startStore(t);
  const res = await raw({ method: 'GET', url: `${plain.baseUrl}magento_version` });
  t.is(res.status, 200);
  t.is(res.body, 'Magento/2.4 (Community)');
  const custom = await startStore(t, { magentoVersion: 'Magento/2.4 (Enterprise)', indexPhp: true });
  t.is((await raw({ method: 'GET', url: `${custom.baseUrl}magento_version` })).body, 'Magento/2.4 (Enterprise)');
  const off = await startStore(t, { magentoVersion: false });
  t.is((await raw({ method: 'GET', url: `${off.baseUrl}magento_version` })).status, 404);
  off.knobs.setSettings({ magentoVersion: 'Magento/2.4 (Community)' });
  t.is((await raw({ method: 'GET', url: `${off.baseUrl}magento_version` })).status, 200);
});

function httpsGet(url: string, ca: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'GET', headers, ...(ca ? { ca } : { rejectUnauthorized: false }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('HTTPS with a given key and certificate: https base URL, signed as https; an untrusted certificate is refused', async (t) => {
  const tls = certificate(t);
  const store = await startStore(t, { tls });
  t.regex(store.baseUrl, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  const ok = await httpsGet(`${store.baseUrl}magento_version`, tls.cert);
  t.is(ok.body, 'Magento/2.4 (Community)');
  // Without the CA the client refuses the self-signed certificate, as Node (and the connector) would.
  await t.throwsAsync(() => new Promise((resolve, reject) => https.get(`${store.baseUrl}magento_version`, resolve).on('error', reject)), {
    code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
  });
  // A signed REST call over TLS: the scheme in the base string is https.
  const seeded = store.admin.seed({
    name: 'tls',
    consumerKey: 'c'.repeat(32),
    consumerSecret: 's'.repeat(32),
    status: 'active',
    tokens: [{ type: 'access', token: 't'.repeat(32), secret: 'u'.repeat(32) }],
  });
  t.truthy(seeded.details);
  const url = `${store.baseUrl}rest/V1/customers/1`;
  const creds = { consumerKey: 'c'.repeat(32), consumerSecret: 's'.repeat(32), token: 't'.repeat(32), tokenSecret: 'u'.repeat(32) };
  const good = await httpsGet(url, tls.cert, { Authorization: sign({ method: 'GET', url, ...creds }).authorization });
  t.is(good.status, 200, good.body);
  const asHttp = await httpsGet(url, tls.cert, { Authorization: sign({ method: 'GET', url: url.replace('https:', 'http:'), ...creds }).authorization });
  t.is(asHttp.status, 401);
});

test('an expired or wrong-host certificate is served as given (for the doctor to report)', async (t) => {
  const fetchWith = (url: string, ca: string) =>
    new Promise((resolve, reject) => https.get(url, { ca }, resolve).on('error', reject));
  const expired = certificate(t, { expired: true });
  const old = await startStore(t, { tls: expired });
  await t.throwsAsync(() => fetchWith(`${old.baseUrl}magento_version`, expired.cert), { code: 'CERT_HAS_EXPIRED' });
  const wrongHost = certificate(t, { host: 'shop.example.com' });
  const other = await startStore(t, { tls: wrongHost });
  await t.throwsAsync(() => fetchWith(`${other.baseUrl}magento_version`, wrongHost.cert), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
});

test('an integration without URLs: Activate mints the four credentials; GET shows them as Integration Details', async (t) => {
  const store = await startStore(t);
  const admin = `${store.adminUrl}api/integrations`;
  const created = await raw({ method: 'POST', url: admin, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Paste me' }) });
  t.is(created.status, 201);
  const { id, details } = json(created) as { id: number; details: unknown };
  t.is(details, null);
  const activated = await raw({ method: 'POST', url: `${admin}/${id}/activate` });
  t.is(activated.status, 200);
  const result = json(activated) as { popupUrl: null; callback: null; tokens: Record<string, string> };
  t.is(result.popupUrl, null);
  t.is(result.callback, null);
  const view = json(await raw({ method: 'GET', url: `${admin}/${id}` })) as {
    status: string;
    details: { consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string };
  };
  t.is(view.status, 'active');
  for (const v of Object.values(view.details)) t.regex(v, /^[0-9a-z]{32}$/);
  t.deepEqual(result.tokens, view.details);
  const page = await raw({ method: 'GET', url: store.adminUrl });
  t.true(page.body.includes('Integration Details'));
  t.true(page.body.includes(view.details.accessTokenSecret));
  // The pasted credentials sign REST calls like any others.
  const creds = {
    consumerKey: view.details.consumerKey,
    consumerSecret: view.details.consumerSecret,
    token: view.details.accessToken,
    tokenSecret: view.details.accessTokenSecret,
  };
  t.is((await signed('GET', `${store.baseUrl}rest/V1/customers/1`, creds)).status, 200);
});

test('store_base_url answers 200 (the storefront home page), with and without index.php', async (t) => {
  for (const indexPhp of [false, true]) {
    const store = await startStore(t, { indexPhp });
    const res = await raw({ method: 'GET', url: store.baseUrl });
    t.is(res.status, 200, store.baseUrl);
    t.regex(res.body, /<title>Home page<\/title>/);
  }
  const store = await startStore(t);
  t.is((await raw({ method: 'GET', url: `${store.baseUrl}no-such-page` })).status, 404);
});

test('the admin page offers an integration without URLs, its resources and a verifier', async (t) => {
  const store = await startStore(t);
  const page = (await raw({ method: 'GET', url: store.adminUrl })).body;
  t.regex(page, /<select name="verifier">/);
  t.regex(page, /<option value="native">/);
  t.regex(page, /Leave both URLs empty/);
});
