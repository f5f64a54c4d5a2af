// Signed REST calls: Magento's base-string rules (docs/magento-protocol.md §7), its 401/404/400 bodies, and
// the sample resources with searchCriteria.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { callbackReceiver, fullyActivate, json, raw, signed, startStore, type Creds } from './helpers.js';
import type { MockStore } from '../../src/mock-store/app.js';

async function activeStore(t: ExecutionContext, options = {}): Promise<{ store: MockStore; creds: Creds; integrationId: number }> {
  const store = await startStore(t, options);
  const { creds, integration } = await fullyActivate(store, await callbackReceiver(t));
  return { store, creds, integrationId: integration.id };
}

interface ProductList {
  items: { sku: string; price: number; name: string; id: number }[];
  total_count: number;
  search_criteria: unknown;
}

const sc = (pairs: Record<string, string | number>): string =>
  Object.entries(pairs)
    .map(([k, v]) => `searchCriteria${k}=${encodeURIComponent(String(v))}`)
    .join('&');

test('a signed GET answers JSON 200; GET V1/customers/:id 404 body names the field', async (t) => {
  const { store, creds } = await activeStore(t);
  const ok = await signed('GET', `${store.baseUrl}rest/V1/customers/1`, creds);
  t.is(ok.status, 200);
  t.is(ok.headers['content-type'], 'application/json; charset=utf-8');
  t.is((json(ok) as { email: string }).email, 'roni_cost@example.com');

  const missing = await signed('GET', `${store.baseUrl}rest/V1/customers/2000`, creds);
  t.is(missing.status, 404);
  t.is(missing.body, '{"message":"No such entity with %fieldName = %fieldValue","parameters":{"fieldName":"customerId","fieldValue":2000}}');
});

test('store codes: /rest/V1, /rest/default/V1, /rest/all/V1 and /index.php/rest/... all answer; an unknown code 404s', async (t) => {
  const { store, creds } = await activeStore(t);
  const origin = store.baseUrl.replace(/\/$/, '');
  for (const path of ['/rest/V1/products/24-MB01', '/rest/default/V1/products/24-MB01', '/rest/all/V1/products/24-MB01', '/index.php/rest/default/V1/products/24-MB01']) {
    const res = await signed('GET', origin + path, creds);
    t.is(res.status, 200, path);
  }
  const unknown = await signed('GET', `${origin}/rest/nl/V1/products/24-MB01`, creds);
  t.is(unknown.status, 404);
  t.deepEqual(json(unknown), { message: 'Request does not match any route.' });
});

test('the URL signed is the one received: /index.php and the store code are part of it', async (t) => {
  const { store, creds } = await activeStore(t);
  const origin = store.baseUrl.replace(/\/$/, '');
  const res = await signed('GET', `${origin}/index.php/rest/V1/customers/1`, creds, { target: '/rest/V1/customers/1' });
  t.is(res.status, 401);
  t.deepEqual(json(res), { message: 'The signature is invalid. Verify and try again.' });
});

test('the raw Host header is signed, port included: signing for another port or name fails', async (t) => {
  const { store, creds } = await activeStore(t);
  const url = `${store.baseUrl}rest/V1/customers/1`;
  const port = new URL(store.baseUrl).port;
  const otherPort = await signed('GET', url, creds, { signedHost: `127.0.0.1:${Number(port) + 1}` });
  t.is(otherPort.status, 401);
  const noPort = await signed('GET', url, creds, { signedHost: '127.0.0.1' });
  t.is(noPort.status, 401);
  // Same socket, another Host header: what the client signs must match what it sends.
  const asLocalhost = await signed('GET', url, creds, { signedHost: `localhost:${port}`, headers: { Host: `localhost:${port}` } });
  t.is(asLocalhost.status, 200);
  const upper = await signed('GET', url, creds, { signedHost: `localhost:${port}`, headers: { Host: `LOCALHOST:${port}` } });
  t.is(upper.status, 200, 'Laminas lower-cases the host before signing');
});

test('a JSON body is not part of the signature', async (t) => {
  const { store, creds } = await activeStore(t);
  const body = JSON.stringify({ product: { sku: 'MOCK-1', name: 'Mock one', price: 9.5, attribute_set_id: 4 } });
  const res = await signed('POST', `${store.baseUrl}rest/default/V1/products`, creds, {
    headers: { 'Content-Type': 'application/json' },
    body,
  });
  t.is(res.status, 200, res.body);
  t.like(json(res) as object, { sku: 'MOCK-1', name: 'Mock one', price: 9.5 });
  const signedWithBody = await signed('POST', `${store.baseUrl}rest/default/V1/products`, creds, {
    headers: { 'Content-Type': 'application/json' },
    body,
    bodyParams: [['product', body]],
  });
  t.is(signedWithBody.status, 401, 'signing the JSON body as a parameter breaks the signature');
});

test('a form-urlencoded body IS part of the signature (and then refused as a REST body type)', async (t) => {
  const { store, creds } = await activeStore(t);
  const url = `${store.baseUrl}rest/V1/products`;
  const body = 'name=Thing&price=12';
  const unsigned = await signed('POST', url, creds, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
  t.is(unsigned.status, 401);
  t.deepEqual(json(unsigned), { message: 'The signature is invalid. Verify and try again.' });
  const withBody = await signed('POST', url, creds, {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
    bodyParams: [
      ['name', 'Thing'],
      ['price', '12'],
    ],
  });
  t.is(withBody.status, 400, 'past authentication: the body type is what fails now');
  t.deepEqual(json(withBody), { message: 'Server cannot understand Content-Type HTTP header media type application/x-www-form-urlencoded' });
});

test('REST bodies: JSON and XML accepted, anything else 400 with Magento\'s messages', async (t) => {
  const { store, creds } = await activeStore(t);
  const url = `${store.baseUrl}rest/V1/products`;
  const xml = '<?xml version="1.0"?><request><product><sku>XML-1</sku><name>From XML</name><price>3</price></product></request>';
  const viaXml = await signed('POST', url, creds, { headers: { 'Content-Type': 'application/xml' }, body: xml });
  t.is(viaXml.status, 200, viaXml.body);
  t.like(json(viaXml) as object, { sku: 'XML-1', price: 3 });

  const text = await signed('POST', url, creds, { headers: { 'Content-Type': 'text/plain' }, body: 'x' });
  t.is(text.status, 400);
  t.deepEqual(json(text), { message: 'Server cannot understand Content-Type HTTP header media type text/plain' });

  const none = await signed('POST', url, creds, { body: '{}' });
  t.deepEqual(json(none), { message: 'Content-Type header is empty.' });

  const latin1 = await signed('POST', url, creds, { headers: { 'Content-Type': 'application/json; charset=iso-8859-1' }, body: '{}' });
  t.deepEqual(json(latin1), { message: 'UTF-8 is the only supported charset.' });

  const broken = await signed('POST', url, creds, { headers: { 'Content-Type': 'application/json' }, body: '{"product":' });
  t.is(broken.status, 400);
  t.deepEqual(json(broken), { message: 'Decoding error.' });

  const missing = await signed('POST', url, creds, { headers: { 'Content-Type': 'application/json' }, body: '{}' });
  t.deepEqual(json(missing), { message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName: 'product' } });
});

test('query pairs: a later duplicate overwrites the earlier one in the signature', async (t) => {
  const { store, creds } = await activeStore(t);
  const url = `${store.baseUrl}rest/V1/products?${sc({ '[pageSize]': 5 })}&${sc({ '[pageSize]': 3 })}`;
  const lastWins = await signed('GET', url, creds, { queryParams: [['searchCriteria[pageSize]', '3']] });
  t.is(lastWins.status, 200);
  t.is((json(lastWins) as ProductList).items.length, 3);
  const firstWins = await signed('GET', url, creds, { queryParams: [['searchCriteria[pageSize]', '5']] });
  t.is(firstWins.status, 401);
  const both = await signed('GET', url, creds);
  t.is(both.status, 401, 'a client signing both pairs does not match Magento');
});

test('query pairs: only name=value pairs with exactly one "=" are signed; + is not a space', async (t) => {
  const { store, creds } = await activeStore(t);
  const base = `${store.baseUrl}rest/V1/products`;
  const flag = await signed('GET', `${base}?searchCriteria&x=a=b`, creds, { queryParams: [] });
  t.is(flag.status, 200, 'searchCriteria (no =) and x=a=b (two =) are left out');
  const plus = await signed('GET', `${base}?searchCriteria=&q=a+b`, creds, { queryParams: [['searchCriteria', ''], ['q', 'a+b']] });
  t.is(plus.status, 200, 'rawurldecode keeps + as +');
  const plusAsSpace = await signed('GET', `${base}?searchCriteria=&q=a+b`, creds, { queryParams: [['searchCriteria', ''], ['q', 'a b']] });
  t.is(plusAsSpace.status, 401);
});

test('parameter order is PHP strnatcmp on the encoded names (2.4.4-2.4.7): [2] before [10]', async (t) => {
  const { store, creds } = await activeStore(t);
  const groups = [2, 10].map((i) => `searchCriteria[filter_groups][${i}][filters][0][field]=sku&searchCriteria[filter_groups][${i}][filters][0][value]=24-MB0%25&searchCriteria[filter_groups][${i}][filters][0][condition_type]=like`);
  const url = `${store.baseUrl}rest/V1/products?${groups.join('&')}`;
  const natural = (a: [string, string], b: [string, string]): number => {
    const key = (s: string): [string, number] => {
      const m = /^searchCriteria%5Bfilter_groups%5D%5B(\d+)%5D(.*)$/.exec(s);
      return m ? [m[2]!, Number(m[1])] : [s, -1];
    };
    const [ra, na] = key(a[0]);
    const [rb, nb] = key(b[0]);
    if (na !== nb && na >= 0 && nb >= 0) return na - nb;
    return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : ra < rb ? -1 : 1;
  };
  const byteOrder = await signed('GET', url, creds);
  t.is(byteOrder.status, 401, 'byte order puts [10] before [2]');
  const naturalOrder = await signed('GET', url, creds, { compare: natural });
  t.is(naturalOrder.status, 200, naturalOrder.body);
  t.is((json(naturalOrder) as ProductList).total_count, 6);
});

test('Laminas normalises the signed path: %2F and %2B are decoded before signing (2.4.4-2.4.6)', async (t) => {
  const { store, creds } = await activeStore(t);
  // Signing the path exactly as sent fails ...
  const slash = await signed('GET', `${store.baseUrl}rest/V1/products/WS12%2FXS-Blue`, creds);
  t.is(slash.status, 401);
  t.deepEqual(json(slash), { message: 'The signature is invalid. Verify and try again.' });
  // ... signing the decoded form of the same request passes, and the route urldecodes the segment.
  const decodedSigned = await signed('GET', `${store.baseUrl}rest/V1/products/WS12/XS-Blue`, creds, {
    target: '/rest/V1/products/WS12%2FXS-Blue',
  });
  t.is(decodedSigned.status, 200, decodedSigned.body);
  t.is((json(decodedSigned) as { sku: string }).sku, 'WS12/XS-Blue');

  const plus = await signed('GET', `${store.baseUrl}rest/V1/products/24-MG%2B04`, creds);
  t.is(plus.status, 401);
  const plusDecodedSigned = await signed('GET', `${store.baseUrl}rest/V1/products/24-MG+04`, creds, {
    target: '/rest/V1/products/24-MG%2B04',
  });
  t.is(plusDecodedSigned.status, 200, plusDecodedSigned.body);
  t.is((json(plusDecodedSigned) as { sku: string }).sku, '24-MG+04');
});

test('SKUs in the path: %20 is a space (kept encoded when signing); a raw + is a space too', async (t) => {
  const { store, creds } = await activeStore(t);
  const space = await signed('GET', `${store.baseUrl}rest/V1/products/WS12%20XS`, creds);
  t.is(space.status, 200, space.body);
  t.is((json(space) as { sku: string }).sku, 'WS12 XS');
  const rawPlus = await signed('GET', `${store.baseUrl}rest/V1/products/24-MG+04`, creds);
  t.is(rawPlus.status, 404, 'the route urldecodes: a raw + is a space');
  t.deepEqual(json(rawPlus), { message: "The product that was requested doesn't exist. Verify the product and try again." });
});

test('a resource the integration was not granted: 401 "The consumer isn\'t authorized to access %resources."', async (t) => {
  const { store, creds } = await activeStore(t);
  const res = await signed('GET', `${store.baseUrl}rest/V1/store/storeConfigs`, creds);
  t.is(res.status, 401);
  t.is(res.body, '{"message":"The consumer isn\'t authorized to access %resources.","parameters":{"resources":"Magento_Backend::store"}}');
});

test('no OAuth header: the caller is a guest, refused the same way', async (t) => {
  const { store } = await activeStore(t);
  const res = await raw({ method: 'GET', url: `${store.baseUrl}rest/V1/customers/1`, headers: { Authorization: 'Bearer abc' } });
  t.is(res.status, 401);
  t.deepEqual(json(res), { message: "The consumer isn't authorized to access %resources.", parameters: { resources: 'Magento_Customer::customer' } });
});

test('REST errors from the OAuth layer carry raw messages and parameters (SHA1 400, reused nonce 401)', async (t) => {
  const { store, creds } = await activeStore(t);
  const url = `${store.baseUrl}rest/V1/customers/1`;
  const sha1 = await signed('GET', url, creds, { signatureMethod: 'HMAC-SHA1' });
  t.is(sha1.status, 400);
  t.deepEqual(json(sha1), { message: 'Signature method %1 is not supported', parameters: ['HMAC-SHA1'] });
  await signed('GET', url, creds, { nonce: 'n1' });
  const reused = await signed('GET', url, creds, { nonce: 'n1' });
  t.is(reused.status, 401);
  t.is((json(reused) as { message: string }).message, 'The nonce is already being used by the consumer with ID %1');
});

test('unknown route 404 "Request does not match any route."; Accept XML renders XML', async (t) => {
  const { store, creds } = await activeStore(t);
  const res = await signed('GET', `${store.baseUrl}rest/V1/nothing/here`, creds);
  t.is(res.status, 404);
  t.deepEqual(json(res), { message: 'Request does not match any route.' });
  const xml = await signed('GET', `${store.baseUrl}rest/V1/customers/1`, creds, { headers: { Accept: 'application/xml' } });
  t.is(xml.status, 200);
  t.regex(xml.headers['content-type'] ?? '', /^application\/xml/);
  t.regex(xml.body, /^<\?xml version="1.0"\?>\n<response><id>1<\/id>/);
});

test('searchCriteria: eq, like with %, in, gt, lt; filters in a group OR, groups AND', async (t) => {
  const { store, creds } = await activeStore(t);
  const get = async (q: string): Promise<ProductList> => {
    const res = await signed('GET', `${store.baseUrl}rest/V1/products?${q}`, creds);
    t.is(res.status, 200, res.body);
    return json(res) as ProductList;
  };
  const f = (g: number, i: number, field: string, value: string, type: string): string =>
    sc({ [`[filter_groups][${g}][filters][${i}][field]`]: field, [`[filter_groups][${g}][filters][${i}][value]`]: value, [`[filter_groups][${g}][filters][${i}][condition_type]`]: type });

  const eq = await get(f(0, 0, 'sku', '24-MB01', 'eq'));
  t.deepEqual(eq.items.map((p) => p.sku), ['24-MB01']);
  t.deepEqual(eq.search_criteria, { filter_groups: [{ filters: [{ field: 'sku', value: '24-MB01', condition_type: 'eq' }] }] });

  const like = await get(f(0, 0, 'sku', '24-UG%', 'like'));
  t.is(like.total_count, 7);

  const inList = await get(f(0, 0, 'sku', '24-MB01,24-MB04,NOPE', 'in'));
  t.deepEqual(inList.items.map((p) => p.sku).sort(), ['24-MB01', '24-MB04']);

  const or = await get(`${f(0, 0, 'sku', '24-MB01', 'eq')}&${f(0, 1, 'sku', 'MH01', 'eq')}`);
  t.deepEqual(or.items.map((p) => p.sku).sort(), ['24-MB01', 'MH01']);

  const and = await get(`${f(0, 0, 'price', '40', 'gt')}&${f(1, 0, 'price', '50', 'lt')}`);
  t.true(and.items.length > 0);
  t.true(and.items.every((p) => p.price > 40 && p.price < 50));

  const noType = await get(
    sc({ '[filter_groups][0][filters][0][field]': 'name', '[filter_groups][0][filters][0][value]': 'joust duffle bag' }),
  );
  t.deepEqual(noType.items.map((p) => p.sku), ['24-MB01'], 'eq by default, case-insensitive like MySQL');
});

test('searchCriteria paging: pageSize/currentPage; a page past the end returns the last page', async (t) => {
  const { store, creds } = await activeStore(t);
  const page = async (n: number): Promise<ProductList> =>
    json(await signed('GET', `${store.baseUrl}rest/V1/products?${sc({ '[pageSize]': 10, '[currentPage]': n })}`, creds)) as ProductList;
  const p1 = await page(1);
  const p4 = await page(4);
  const p9 = await page(9);
  t.is(p1.total_count, 32);
  t.is(p1.items.length, 10);
  t.deepEqual(p1.search_criteria, { filter_groups: [], page_size: 10, current_page: 1 });
  t.is(p4.items.length, 2);
  t.deepEqual(p9.items.map((p) => p.id), p4.items.map((p) => p.id));
  const ids = (await Promise.all([1, 2, 3, 4].map(page))).flatMap((p) => p.items.map((i) => i.id));
  t.is(new Set(ids).size, 32);
});

test('searchCriteria is required: 400 with Magento\'s field message; sortOrders sorts', async (t) => {
  const { store, creds } = await activeStore(t);
  const none = await signed('GET', `${store.baseUrl}rest/V1/products`, creds);
  t.is(none.status, 400);
  t.deepEqual(json(none), { message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName: 'searchCriteria' } });
  const sorted = json(
    await signed('GET', `${store.baseUrl}rest/V1/products?${sc({ '[sortOrders][0][field]': 'price', '[sortOrders][0][direction]': 'DESC', '[pageSize]': 3 })}`, creds),
  ) as ProductList;
  t.deepEqual(sorted.items.map((p) => p.price), [74, 70, 59]);
});

test('GET V1/orders: dates compared as strings (created_at gt "2024-10-25 00:00:00")', async (t) => {
  const { store, creds } = await activeStore(t);
  const q = sc({
    '[filter_groups][0][filters][0][field]': 'created_at',
    '[filter_groups][0][filters][0][value]': '2024-10-25 00:00:00',
    '[filter_groups][0][filters][0][condition_type]': 'gt',
  });
  const res = await signed('GET', `${store.baseUrl}rest/V1/orders?${q}`, creds);
  t.is(res.status, 200, res.body);
  const body = json(res) as { items: { created_at: string }[]; total_count: number };
  t.is(body.total_count, 8);
  t.is(body.items.length, 8, 'every order after the bound is on the page (an empty page would pass the check below)');
  t.true(body.items.every((o) => o.created_at > '2024-10-25 00:00:00'));
});

test('products: POST creates, PUT updates (path SKU wins), DELETE answers true, then 404', async (t) => {
  const { store, creds } = await activeStore(t);
  const headers = { 'Content-Type': 'application/json' };
  const created = await signed('POST', `${store.baseUrl}rest/V1/products`, creds, {
    headers,
    body: JSON.stringify({ product: { sku: 'A/B c', name: 'Slash', price: 10 } }),
  });
  t.is(created.status, 200);
  t.true(created.body.includes('"sku":"A\\/B c"'), 'PHP json_encode escapes slashes');
  const updated = await signed('PUT', `${store.baseUrl}rest/all/V1/products/24-MB01`, creds, {
    headers,
    body: JSON.stringify({ product: { sku: 'IGNORED', price: 99 } }),
  });
  t.is(updated.status, 200);
  t.like(json(updated) as object, { sku: '24-MB01', price: 99, name: 'Joust Duffle Bag' });
  const deleted = await signed('DELETE', `${store.baseUrl}rest/V1/products/24-MB01`, creds);
  t.is(deleted.body, 'true');
  const gone = await signed('GET', `${store.baseUrl}rest/V1/products/24-MB01`, creds);
  t.is(gone.status, 404);
});

test('an inactive integration\'s token (e.g. after Reauthorize, before the new exchange) is a guest', async (t) => {
  const { store, creds, integrationId } = await activeStore(t);
  store.tables.setIntegrationStatus(integrationId, 'inactive');
  const res = await signed('GET', `${store.baseUrl}rest/V1/customers/1`, creds);
  t.is(res.status, 401);
  t.is((json(res) as { message: string }).message, "The consumer isn't authorized to access %resources.");
});

test('benchmark mode answers REST without checking signatures', async (t) => {
  const store = await startStore(t, { checkSignatures: false });
  const res = await raw({ method: 'GET', url: `${store.baseUrl}rest/V1/customers/1` });
  t.is(res.status, 200);
  store.knobs.setCheckSignatures(true);
  t.is((await raw({ method: 'GET', url: `${store.baseUrl}rest/V1/customers/1` })).status, 401);
});

test('the revocation probe facts (§7b): an anonymous route never checks the token; V1/customerGroups/default does, before its ACL', async (t) => {
  const { store, creds, integrationId } = await activeStore(t);
  const groups = `${store.baseUrl}rest/V1/customerGroups/default`;
  const refused = await signed('GET', groups, creds);
  t.is(refused.status, 401, 'not granted by default');
  t.deepEqual(json(refused), { message: "The consumer isn't authorized to access %resources.", parameters: { resources: 'Magento_Customer::group' } });
  store.admin.update(integrationId, { resources: ['customerGroups'] });
  const granted = await signed('GET', groups, creds);
  t.is(granted.status, 200);
  t.like(json(granted), { id: 1, code: 'General' });

  // Allow Anonymous Guest Access makes the store reads anonymous: the token is no longer looked at.
  store.knobs.setSettings({ allowInsecure: true });
  store.admin.delete(integrationId); // the token is dead now
  const anonymous = await signed('GET', `${store.baseUrl}rest/V1/store/storeConfigs`, creds);
  t.is(anonymous.status, 200, 'a dead token on an anonymous route: 200');
  t.is((await signed('GET', `${store.baseUrl}rest/V1/directory/currency`, creds)).status, 200);
  const dead = await signed('GET', groups, creds);
  t.is(dead.status, 401);
  t.regex((json(dead) as { message: string }).message, /^A consumer having the specified key does not exist|^Specified token does not exist/);
});
