// The three verifiers (docs/magento-protocol.md §7a), each judged over HTTP with requests signed by the test's own
// signer (signer.ts) in the forms each release accepts: natural vs raw-name byte order for 11 filter groups, values
// with a space signed once or pre-encoded, `%2F` in a path; plus per-integration verifiers and the "upgrade" knob.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { MockStore } from '../../src/mock-store/app.js';
import type { VerifierName } from '../../src/mock-store/verifiers.js';
import { callbackReceiver, fullyActivate, json, raw, signed, startStore, type Creds } from './helpers.js';
import { enc } from './signer.js';

const VERIFIERS: VerifierName[] = ['laminas', 'laminas-double-encoding', 'native'];
const INVALID = { message: 'The signature is invalid. Verify and try again.' };

async function activeStore(t: ExecutionContext, verifier: VerifierName): Promise<{ store: MockStore; creds: Creds; id: number }> {
  const store = await startStore(t, { verifier });
  const { creds, integration } = await fullyActivate(store, await callbackReceiver(t));
  return { store, creds, id: integration.id };
}

type Pair = [string, string];

/** PHP-like natural order of names (digit runs by value), written for the test: enough for `[1]` vs `[10]`. */
function naturalCompare(a: string, b: string): number {
  const chunks = (s: string): (string | number)[] => s.match(/\d+|\D+/g)!.map((c) => (/^\d/.test(c) ? Number(c) : c));
  const x = chunks(a);
  const y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    return String(p) < String(q) ? -1 : 1;
  }
  return x.length - y.length;
}
const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Orders of the ENCODED name=value pairs the signer sorts. */
const naturalOnEncoded = (a: Pair, b: Pair): number => naturalCompare(a[0], b[0]);
const rawNameByteOrder = (a: Pair, b: Pair): number => byteOrder(decodeURIComponent(a[0]), decodeURIComponent(b[0]));
const encodedByteOrder = (a: Pair, b: Pair): number => byteOrder(a[0], b[0]);

/** 11 filter groups (indexes 0..10), each `entity_id gteq 1`: names with [1] and [10]. */
function elevenGroups(): Pair[] {
  const pairs: Pair[] = [];
  for (let g = 0; g <= 10; g++) {
    const p = `searchCriteria[filter_groups][${g}][filters][0]`;
    pairs.push([`${p}[field]`, 'entity_id'], [`${p}[value]`, '1'], [`${p}[condition_type]`, 'gteq']);
  }
  pairs.push(['searchCriteria[pageSize]', '5']);
  return pairs;
}

const queryString = (pairs: Pair[]): string => pairs.map(([k, v]) => `${k}=${enc(v)}`).join('&');

const EXPECT = {
  natural: { laminas: true, 'laminas-double-encoding': true, native: false },
  rawByteOrder: { laminas: false, 'laminas-double-encoding': false, native: true },
  encodedByteOrder: { laminas: false, 'laminas-double-encoding': false, native: false },
  spaceSignedOnce: { laminas: true, 'laminas-double-encoding': false, native: true },
  spacePreEncoded: { laminas: false, 'laminas-double-encoding': true, native: false },
  encodedSlashPath: { laminas: false, 'laminas-double-encoding': true, native: true },
} satisfies Record<string, Record<VerifierName, boolean>>;

for (const verifier of VERIFIERS) {
  test(`${verifier}: a plain signed call and the whole activation verify`, async (t) => {
    const { store, creds } = await activeStore(t, verifier);
    t.is(store.admin.list()[0]!.effectiveVerifier, verifier);
    const res = await signed('GET', `${store.baseUrl}rest/V1/products?${queryString([['searchCriteria[pageSize]', '2']])}`, creds);
    t.is(res.status, 200, res.body);
    t.is((json(res) as { items: unknown[] }).items.length, 2);
  });

  test(`${verifier}: 11 filter groups verify only in that release's parameter order`, async (t) => {
    const { store, creds } = await activeStore(t, verifier);
    const pairs = elevenGroups();
    const url = `${store.baseUrl}rest/V1/products?${queryString(pairs)}`;
    for (const [name, compare] of [
      ['natural', naturalOnEncoded],
      ['rawByteOrder', rawNameByteOrder],
      ['encodedByteOrder', encodedByteOrder],
    ] as const) {
      const res = await signed('GET', url, creds, { compare });
      if (EXPECT[name][verifier]) {
        t.is(res.status, 200, `${name}: ${res.body}`);
        t.is((json(res) as { total_count: number }).total_count, 32);
      } else {
        t.is(res.status, 401, name);
        t.deepEqual(json(res), INVALID, name);
      }
    }
  });

  test(`${verifier}: a value with a space verifies signed once (laminas, native) or pre-encoded (2.4.8-beta1)`, async (t) => {
    const { store, creds } = await activeStore(t, verifier);
    const pairs: Pair[] = [
      ['searchCriteria[filter_groups][0][filters][0][field]', 'name'],
      ['searchCriteria[filter_groups][0][filters][0][value]', 'Joust Duffle Bag'],
    ];
    const url = `${store.baseUrl}rest/V1/products?${queryString(pairs)}`;
    const once = await signed('GET', url, creds);
    const preEncoded = await signed('GET', url, creds, { queryParams: pairs.map(([k, v]) => [k, enc(v)]) });
    for (const [name, res] of [
      ['spaceSignedOnce', once],
      ['spacePreEncoded', preEncoded],
    ] as const) {
      if (EXPECT[name][verifier]) {
        t.is(res.status, 200, `${name}: ${res.body}`);
        t.deepEqual((json(res) as { items: { sku: string }[] }).items.map((p) => p.sku), ['24-MB01']);
      } else {
        t.is(res.status, 401, name);
        t.deepEqual(json(res), INVALID, name);
      }
    }
  });

  test(`${verifier}: %2F in a path segment (SKU WS12/XS-Blue) ${EXPECT.encodedSlashPath[verifier] ? 'verifies' : 'fails (Uri::normalize decodes it)'}`, async (t) => {
    const { store, creds } = await activeStore(t, verifier);
    const res = await signed('GET', `${store.baseUrl}rest/V1/products/WS12%2FXS-Blue`, creds);
    if (EXPECT.encodedSlashPath[verifier]) {
      t.is(res.status, 200, res.body);
      t.is((json(res) as { sku: string }).sku, 'WS12/XS-Blue');
    } else {
      t.is(res.status, 401);
      t.deepEqual(json(res), INVALID);
    }
  });

  test(`${verifier}: the signature is checked before the ACL: a refused route tells a bad signature from a good one`, async (t) => {
    const { store, creds } = await activeStore(t, verifier);
    const url = `${store.baseUrl}rest/V1/store/storeConfigs`;
    const good = await signed('GET', url, creds);
    t.is(good.status, 401);
    t.deepEqual(json(good), { message: "The consumer isn't authorized to access %resources.", parameters: { resources: 'Magento_Backend::store' } });
    const bad = await signed('GET', url, { ...creds, tokenSecret: 'x'.repeat(32) });
    t.is(bad.status, 401);
    t.deepEqual(json(bad), INVALID);
    const noRoute = await signed('GET', `${store.baseUrl}rest/V1/nothing-here`, { ...creds, tokenSecret: 'x'.repeat(32) });
    t.is(noRoute.status, 404, 'route matching comes first');
  });
}

test('native: a plain name signed with `+` as a space (parse_str) verifies; laminas reads the `+` literally', async (t) => {
  for (const verifier of ['native', 'laminas'] as const) {
    const { store, creds } = await activeStore(t, verifier);
    // `fields` is a plain (non-bracket) name, so native's parse_str value (space) overwrites the raw one (`+`).
    const url = `${store.baseUrl}rest/V1/products/24-MB01?fields=sku+name`;
    const asSpace = await signed('GET', url, creds, { queryParams: [['fields', 'sku name']] });
    const asPlus = await signed('GET', url, creds, { queryParams: [['fields', 'sku+name']] });
    t.is(asSpace.status, verifier === 'native' ? 200 : 401, `${verifier} space`);
    t.is(asPlus.status, verifier === 'native' ? 401 : 200, `${verifier} plus`);
  }
});

test('per integration: one store holds integrations judged by different verifiers; null goes back to the store\'s', async (t) => {
  const store = await startStore(t, { verifier: 'laminas' });
  const receiver = await callbackReceiver(t);
  const a = await fullyActivate(store, receiver, 'A');
  const b = await fullyActivate(store, receiver, 'B');
  store.admin.update(b.integration.id, { verifier: 'native' });
  const url = `${store.baseUrl}rest/V1/products?${queryString(elevenGroups())}`;
  t.is((await signed('GET', url, a.creds, { compare: naturalOnEncoded })).status, 200);
  t.is((await signed('GET', url, b.creds, { compare: naturalOnEncoded })).status, 401);
  t.is((await signed('GET', url, b.creds, { compare: rawNameByteOrder })).status, 200);
  t.like(store.admin.get(b.integration.id), { verifier: 'native', effectiveVerifier: 'native' });
  store.admin.update(b.integration.id, { verifier: null });
  t.is((await signed('GET', url, b.creds, { compare: naturalOnEncoded })).status, 200);
});

test('an integration created with a verifier over the admin API; PATCH changes it', async (t) => {
  const store = await startStore(t);
  const created = await raw({
    method: 'POST',
    url: `${store.adminUrl}api/integrations`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'N', verifier: 'laminas-double-encoding' }),
  });
  t.is(created.status, 201);
  const { id } = json(created) as { id: number };
  t.like(json(created) as object, { verifier: 'laminas-double-encoding', effectiveVerifier: 'laminas-double-encoding' });
  const patched = await raw({
    method: 'PATCH',
    url: `${store.adminUrl}api/integrations/${id}`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ verifier: 'native' }),
  });
  t.is(patched.status, 200);
  t.like(json(patched) as object, { verifier: 'native' });
  const wrong = await raw({
    method: 'PATCH',
    url: `${store.adminUrl}api/integrations/${id}`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ verifier: 'zend' }),
  });
  t.is(wrong.status, 400);
});

test('the upgrade knob: the store moves from laminas to native at runtime (programmatic and /__mock/verifier)', async (t) => {
  const { store, creds, id } = await activeStore(t, 'laminas');
  const url = `${store.baseUrl}rest/V1/products?${queryString(elevenGroups())}`;
  t.is((await signed('GET', url, creds, { compare: naturalOnEncoded })).status, 200);
  store.knobs.setVerifier('native');
  t.is((await signed('GET', url, creds, { compare: naturalOnEncoded })).status, 401);
  t.is((await signed('GET', url, creds, { compare: rawNameByteOrder })).status, 200);

  const back = await raw({
    method: 'POST',
    url: `${store.adminUrl.replace(/admin\/$/, '')}__mock/verifier`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ verifier: 'laminas' }),
  });
  t.deepEqual(json(back), { verifier: 'laminas' });
  t.is((await signed('GET', url, creds, { compare: naturalOnEncoded })).status, 200);

  const one = await raw({
    method: 'POST',
    url: `${store.adminUrl.replace(/admin\/$/, '')}__mock/verifier`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ verifier: 'laminas-double-encoding', integrationId: id }),
  });
  t.is(one.status, 200);
  t.is(store.admin.get(id).effectiveVerifier, 'laminas-double-encoding');
  t.is(store.settings.verifier, 'laminas');
});

test('the Host header as received: laminas lower-cases it and drops :80, native signs it as sent', async (t) => {
  for (const verifier of ['laminas', 'native'] as const) {
    const { store, creds } = await activeStore(t, verifier);
    const port = new URL(store.baseUrl).port;
    const url = `${store.baseUrl}rest/V1/customers/1`;
    // The test signer normalises like RFC 5849 (lower-case host); the request carries an upper-case Host.
    const res = await signed('GET', url, creds, { headers: { Host: `LOCALHOST:${port}` }, signedHost: `localhost:${port}` });
    t.is(res.status, verifier === 'native' ? 401 : 200, verifier);
  }
});

test('native: a decimal-integer query name is a PHP TypeError in Hmac (masked 500); laminas signs it', async (t) => {
  for (const verifier of ['native', 'laminas'] as const) {
    const { store, creds } = await activeStore(t, verifier);
    const res = await signed('GET', `${store.baseUrl}rest/V1/customers/1?5=x`, creds);
    if (verifier === 'native') {
      t.is(res.status, 500);
      t.regex((json(res) as { message: string }).message, /^Internal Error\. Details are available in Magento log file\. Report ID: webapi-/);
    } else {
      t.is(res.status, 200);
    }
  }
});
