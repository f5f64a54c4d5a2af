// The calls a CRM makes beyond single REST reads: store views, GraphQL, async and bulk, incremental reads on
// updated_at with Magento's page-size limit, the touch knob between pages, and the order seeder.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { MockStore, MockStoreOptions } from '../../src/mock-store/app.js';
import { callbackReceiver, fullyActivate, json, raw, signed, startStore, type Creds } from './helpers.js';
import { enc } from './signer.js';

async function activeStore(t: ExecutionContext, options: MockStoreOptions = {}): Promise<{ store: MockStore; creds: Creds; id: number }> {
  const store = await startStore(t, options);
  const { creds, integration } = await fullyActivate(store, await callbackReceiver(t));
  return { store, creds, id: integration.id };
}

const q = (pairs: [string, string | number][]): string => pairs.map(([k, v]) => `searchCriteria${k}=${enc(String(v))}`).join('&');

// ---- store views --------------------------------------------------------------------------------------------

test('GET V1/store/storeViews (when granted) lists admin, default and fr; /rest/fr/V1 answers, an unknown code 404s', async (t) => {
  const { store, creds, id } = await activeStore(t);
  store.admin.update(id, { resources: ['stores', 'products'] });
  const res = await signed('GET', `${store.baseUrl}rest/V1/store/storeViews`, creds);
  t.is(res.status, 200);
  t.deepEqual(
    (json(res) as { code: string; id: number; name: string }[]).map((v) => [v.id, v.code, v.name]),
    [
      [0, 'admin', 'Admin'],
      [1, 'default', 'Default Store View'],
      [2, 'fr', 'French Store View'],
    ],
  );
  t.is((await signed('GET', `${store.baseUrl}rest/fr/V1/products/24-MB01`, creds)).status, 200);
  const unknown = await signed('GET', `${store.baseUrl}rest/nl/V1/products/24-MB01`, creds);
  t.is(unknown.status, 404);
  t.deepEqual(json(unknown), { message: 'Request does not match any route.' });
  store.knobs.setSettings({ storeCodes: ['default', 'nl'] });
  t.is((await signed('GET', `${store.baseUrl}rest/nl/V1/products/24-MB01`, creds)).status, 200);
});

// ---- GraphQL ------------------------------------------------------------------------------------------------

const gql = (store: MockStore, creds: Creds | null, query: string, extras: { headers?: Record<string, string>; variables?: object } = {}) => {
  const body = JSON.stringify({ query, variables: extras.variables });
  const headers = { 'Content-Type': 'application/json', ...extras.headers };
  const url = `${store.baseUrl}graphql`;
  return creds ? signed('POST', url, creds, { headers, body }) : raw({ method: 'POST', url, headers, body });
};

test('GraphQL: signed products query (JSON body unsigned); variables; errors with HTTP 200, locations and path', async (t) => {
  const { store, creds } = await activeStore(t);
  const res = await gql(store, creds, 'query P($sku: String) { products(filter: { sku: { eq: $sku } }) { total_count items { sku name __typename price_range { minimum_price { final_price { value currency } } } } } }', {
    variables: { sku: '24-MB01' },
  });
  t.is(res.status, 200, res.body);
  t.deepEqual(json(res), {
    data: {
      products: {
        total_count: 1,
        items: [{ sku: '24-MB01', name: 'Joust Duffle Bag', __typename: 'SimpleProduct', price_range: { minimum_price: { final_price: { value: 34, currency: 'USD' } } } }],
      },
    },
  });

  const noArgs = await gql(store, creds, '{ products { total_count } }');
  t.is(noArgs.status, 200);
  t.deepEqual(json(noArgs), {
    errors: [{ message: "'search' or 'filter' input argument is required.", locations: [{ line: 1, column: 3 }], path: ['products'], extensions: { category: 'graphql-input' } }],
    data: { products: null },
  });

  const unknownField = await gql(store, creds, '{ products(search: "bag") { nope } }');
  t.is(unknownField.status, 200);
  const body = json(unknownField) as { errors: { message: string; locations: unknown[] }[]; data?: unknown };
  t.is(body.errors[0]!.message, 'Cannot query field "nope" on type "Products".');
  t.deepEqual(body.errors[0]!.locations, [{ line: 1, column: 29 }]);
  t.false('data' in body);

  const past = await gql(store, creds, '{ products(search: "bag", pageSize: 5, currentPage: 99) { total_count } }');
  t.regex((json(past) as { errors: { message: string }[] }).errors[0]!.message, /^currentPage value 99 specified is greater than the \d+ page\(s\) available\.$/);
});

test('GraphQL: a bad signature is refused (500, masked as Magento does); a guest reads products; customers need the grant', async (t) => {
  const { store, creds, id } = await activeStore(t);
  const bad = await gql(store, { ...creds, tokenSecret: 'x'.repeat(32) }, '{ products(search: "bag") { total_count } }');
  t.is(bad.status, 500);
  t.deepEqual(json(bad), { errors: [{ message: 'Internal server error' }] });

  const guest = await gql(store, null, '{ products(search: "Duffle") { total_count } }');
  t.deepEqual(json(guest), { data: { products: { total_count: 3 } } });

  const customers = '{ customers(filter: { email: { eq: "jdoe@example.com" } }) { total_count items { firstname email } } }';
  t.deepEqual(json(await gql(store, creds, customers)), {
    data: { customers: { total_count: 1, items: [{ firstname: 'John', email: 'jdoe@example.com' }] } },
  });
  const asGuest = json(await gql(store, null, customers)) as { errors: { message: string; extensions: object }[] };
  t.is(asGuest.errors[0]!.message, "The consumer isn't authorized to access Magento_Customer::customer.");
  store.admin.update(id, { resources: ['products'] });
  t.deepEqual((json(await gql(store, creds, customers)) as { errors: { extensions: object }[] }).errors[0]!.extensions, { category: 'graphql-authorization' });
  const customer = json(await gql(store, creds, '{ customer { email } }')) as { errors: { message: string }[] };
  t.is(customer.errors[0]!.message, "The current customer isn't authorized.");
});

test('GraphQL: the Store header picks the view; an unknown code is Magento\'s error; the verifier applies', async (t) => {
  const { store, creds } = await activeStore(t, { verifier: 'native' });
  const fr = await gql(store, creds, '{ storeConfig { store_code store_name locale } }', { headers: { Store: 'fr' } });
  t.deepEqual(json(fr), { data: { storeConfig: { store_code: 'fr', store_name: 'French Store View', locale: 'fr_FR' } } });
  const nl = await gql(store, creds, '{ storeConfig { store_code } }', { headers: { Store: 'nl' } });
  t.is(nl.status, 500, 'raised before execution: Controller\\GraphQl answers HTTP_GRAPH_QL_SCHEMA_ERROR_STATUS');
  t.deepEqual(json(nl), { errors: [{ message: 'Requested store is not found', extensions: { category: 'graphql-input' } }] });
  // Signed with a query string on the graphql URL: native's parse_str reads `+` as a space.
  const url = `${store.baseUrl}graphql?x=a+b`;
  const body = JSON.stringify({ query: '{ storeConfig { store_code } }' });
  const headers = { 'Content-Type': 'application/json' };
  t.deepEqual(json(await signed('POST', url, creds, { headers, body, queryParams: [['x', 'a b']] })), { data: { storeConfig: { store_code: 'default' } } });
  const plus = await signed('POST', url, creds, { headers, body, queryParams: [['x', 'a+b']] });
  t.is(plus.status, 500);
  t.deepEqual(json(plus), { errors: [{ message: 'Internal server error' }] });
});

// ---- async and bulk -----------------------------------------------------------------------------------------

interface AsyncAnswer {
  bulk_uuid: string;
  request_items: { id: number; data_hash: string | null; status: string; error_message?: string }[];
  errors: boolean;
}
interface Detailed {
  operations_list: { id: number; status: number; topic_name: string; result_message: string | null; result_serialized_data: string | null }[];
  bulk_id: string;
  operation_count: number;
}

test('async: POST /rest/async/V1/products answers 202 with bulk_uuid and one accepted item; processed later', async (t) => {
  const { store, creds } = await activeStore(t, { bulkProcessAfterMs: null });
  const res = await signed('POST', `${store.baseUrl}rest/async/V1/products`, creds, {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ product: { sku: 'ASYNC-1', name: 'Async', price: 5 } }),
  });
  t.is(res.status, 202, res.body);
  const answer = json(res) as AsyncAnswer;
  t.regex(answer.bulk_uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  t.is(answer.errors, false);
  t.is(answer.request_items.length, 1);
  t.like(answer.request_items[0], { id: 0, status: 'accepted' });
  t.regex(answer.request_items[0]!.data_hash!, /^[0-9a-f]{64}$/);

  const statusUrl = `${store.baseUrl}rest/V1/bulk/${answer.bulk_uuid}/detailed-status`;
  const open = json(await signed('GET', statusUrl, creds)) as Detailed;
  t.is(open.operations_list[0]!.status, 4);
  t.is(open.operations_list[0]!.topic_name, 'async.magento.catalog.api.productrepositoryinterface.save.post');
  t.is(store.catalog.productBySku('ASYNC-1'), undefined);

  t.is(store.knobs.processBulk(answer.bulk_uuid), 1);
  const done = json(await signed('GET', statusUrl, creds)) as Detailed;
  t.is(done.operations_list[0]!.status, 1);
  t.is(done.operation_count, 1);
  t.is(store.catalog.productBySku('ASYNC-1')?.name, 'Async');
  const short = json(await signed('GET', `${store.baseUrl}rest/V1/bulk/${answer.bulk_uuid}/status`, creds)) as Detailed;
  t.deepEqual(Object.keys(short.operations_list[0]!).sort(), ['error_code', 'id', 'result_message', 'status']);
});

test('bulk: PUT /rest/async/bulk/V1/products/bySku, several items, statuses 1/3/5 and the failure knob (2)', async (t) => {
  const { store, creds } = await activeStore(t, { bulkProcessAfterMs: null });
  const res = await signed('PUT', `${store.baseUrl}rest/default/async/bulk/V1/products/bySku`, creds, {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify([
      { sku: '24-MB01', product: { price: 40 } },
      { sku: 'NEW-NO-NAME', product: { price: 1 } },
      'not an entity',
      { sku: '24-MB04', product: { price: 41 } },
    ]),
  });
  t.is(res.status, 202, res.body);
  const answer = json(res) as AsyncAnswer;
  t.true(answer.errors);
  t.deepEqual(answer.request_items.map((i) => i.status), ['accepted', 'accepted', 'rejected', 'accepted']);
  store.knobs.failBulkOperations({ count: 1, status: 2, message: 'Deadlock found when trying to get lock' });
  t.is(store.knobs.processBulk(), 3);
  const detailed = json(await signed('GET', `${store.baseUrl}rest/V1/bulk/${answer.bulk_uuid}/detailed-status`, creds)) as Detailed;
  // Accepted operations in request order (the first hit by the failure knob), the rejected one last.
  t.deepEqual(detailed.operations_list.map((o) => o.status), [2, 3, 1, 5]);
  t.is(store.catalog.productBySku('24-MB01')?.price, 34, 'the failed operation did not run');
  const byStatus = Object.fromEntries(detailed.operations_list.map((o) => [o.status, o.result_message]));
  t.is(byStatus[2], 'Deadlock found when trying to get lock');
  t.is(byStatus[3], 'The "name" attribute value is empty. Set the attribute and try again.');
  t.true(1 in byStatus);
  t.true(5 in byStatus);
  t.is(store.catalog.productBySku('24-MB04')?.price, 41);
  const count = await signed('GET', `${store.baseUrl}rest/V1/bulk/${answer.bulk_uuid}/operation-status/5`, creds);
  t.is(count.body, '1');
  const missing = await signed('GET', `${store.baseUrl}rest/V1/bulk/00000000-0000-0000-0000-000000000000/detailed-status`, creds);
  t.is(missing.status, 404);
  t.deepEqual(json(missing), { message: 'Bulk uuid %bulkUuid not exist', parameters: { bulkUuid: '00000000-0000-0000-0000-000000000000' } });
});

test('async: processed by the mock after a short while; GET on /async/ is not a route; resources apply', async (t) => {
  const { store, creds, id } = await activeStore(t, { bulkProcessAfterMs: 10 });
  const res = await signed('DELETE', `${store.baseUrl}rest/async/V1/products/24-MB01`, creds);
  t.is(res.status, 202, res.body);
  const { bulk_uuid } = json(res) as AsyncAnswer;
  for (let i = 0; i < 200 && store.bulk.get(bulk_uuid)!.operations[0]!.status === 4; i++) await new Promise((r) => setTimeout(r, 10));
  t.is(store.bulk.get(bulk_uuid)!.operations[0]!.status, 1);
  t.is(store.catalog.productBySku('24-MB01'), undefined);
  t.is((await signed('GET', `${store.baseUrl}rest/async/V1/products/24-MB04`, creds)).status, 404);
  store.admin.update(id, { resources: ['orders'] });
  const refused = await signed('POST', `${store.baseUrl}rest/async/V1/products`, creds, {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ product: { sku: 'X', name: 'X', price: 1 } }),
  });
  t.is(refused.status, 401);
});

// ---- incremental reads --------------------------------------------------------------------------------------

interface OrderList {
  items: { entity_id: number; updated_at: string }[];
  total_count: number;
}

test('max page size: pageSize above webapi/validation/maximum_page_size is Magento\'s 400; configurable; null = none', async (t) => {
  const { store, creds } = await activeStore(t);
  const url = (n: number) => `${store.baseUrl}rest/V1/orders?${q([['[pageSize]', n]])}`;
  t.is((await signed('GET', url(300), creds)).status, 200);
  const tooBig = await signed('GET', url(301), creds);
  t.is(tooBig.status, 400);
  t.deepEqual(json(tooBig), { message: 'Maximum SearchCriteria pageSize is %max', parameters: { max: 300 } });
  store.knobs.setSettings({ maxPageSize: 50 });
  t.deepEqual(json(await signed('GET', url(51), creds)), { message: 'Maximum SearchCriteria pageSize is %max', parameters: { max: 50 } });
  store.knobs.setSettings({ maxPageSize: null });
  t.is((await signed('GET', url(5000), creds)).status, 200);
});

test('pages past the end: the last page again by default; pastLastPage "empty" answers no items', async (t) => {
  const { store, creds } = await activeStore(t);
  const url = `${store.baseUrl}rest/V1/orders?${q([['[pageSize]', 10], ['[currentPage]', 5]])}`;
  const last = json(await signed('GET', url, creds)) as OrderList;
  t.deepEqual(last.items.map((o) => o.entity_id), [11, 12, 13, 14]);
  store.knobs.setSettings({ pastLastPage: 'empty' });
  const empty = json(await signed('GET', url, creds)) as OrderList;
  t.deepEqual(empty.items, []);
  t.is(empty.total_count, 14);
});

test('updated_at gteq + sort by updated_at then entity_id; the touch knob changes an entity between two pages', async (t) => {
  const { store, creds } = await activeStore(t);
  const read = async (page: number) =>
    json(
      await signed(
        'GET',
        `${store.baseUrl}rest/V1/orders?${q([
          ['[filter_groups][0][filters][0][field]', 'updated_at'],
          ['[filter_groups][0][filters][0][value]', '2024-10-25 00:00:00'],
          ['[filter_groups][0][filters][0][condition_type]', 'gteq'],
          ['[sortOrders][0][field]', 'updated_at'],
          ['[sortOrders][0][direction]', 'ASC'],
          ['[sortOrders][1][field]', 'entity_id'],
          ['[sortOrders][1][direction]', 'ASC'],
          ['[pageSize]', 4],
          ['[currentPage]', page],
        ])}`,
        creds,
      ),
    ) as OrderList;
  store.knobs.touch('orders', [6], 1); // after the first read: order 6 (on page 1) moves to the end
  const p1 = await read(1);
  t.deepEqual(p1.items.map((o) => o.entity_id), [6, 7, 8, 9]);
  t.is(p1.total_count, 9);
  const p2 = await read(2);
  t.deepEqual(p2.items.map((o) => o.entity_id), [11, 12, 13, 14], 'order 10 slid onto page 1: offset paging skips it');
  const p3 = await read(3);
  t.deepEqual(p3.items.map((o) => o.entity_id), [6]);
  t.true(p3.items[0]!.updated_at > '2025-01-01 00:00:00', 'bumped to the mock clock');
  t.is(store.knobs.touch('orders', [1, 2, 999]), 2);
});

test('seedOrders adds 100,000 light orders cheaply; updated_at ties of three; /__mock/orders/seed', async (t) => {
  const { store, creds } = await activeStore(t);
  t.is(store.knobs.seedOrders(100_000), 100_000);
  const first = json(
    await signed('GET', `${store.baseUrl}rest/V1/orders?${q([['[pageSize]', 300], ['[currentPage]', 1], ['[filter_groups][0][filters][0][field]', 'updated_at'], ['[filter_groups][0][filters][0][value]', '2025-01-01 00:00:00'], ['[filter_groups][0][filters][0][condition_type]', 'gteq']])}`, creds),
  ) as OrderList;
  t.is(first.total_count, 100_000);
  t.is(first.items.length, 300);
  t.deepEqual(first.items.slice(0, 4).map((o) => o.updated_at), ['2025-01-01 00:00:00', '2025-01-01 00:00:00', '2025-01-01 00:00:00', '2025-01-01 00:00:01']);
  const res = await raw({
    method: 'POST',
    url: `${store.adminUrl.replace(/admin\/$/, '')}__mock/orders/seed`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ count: 5 }),
  });
  t.deepEqual(json(res), { added: 5 });
  t.is(store.catalog.orders.length, 14 + 100_005);
});

test('the request log tells GraphQL calls apart', async (t) => {
  const { store, creds } = await activeStore(t);
  store.knobs.clearRequests();
  await gql(store, creds, '{ storeConfig { store_code } }');
  t.deepEqual(store.knobs.requests().map((r) => [r.kind, r.path, r.status]), [['graphql', '/graphql', 200]]);
});

test('GraphQL: a Bearer integration token counts only with the Bearer setting', async (t) => {
  const { store, creds } = await activeStore(t);
  const customers = '{ customers { total_count } }';
  const headers = { Authorization: `Bearer ${creds.token}` };
  const off = json(await gql(store, null, customers, { headers })) as { errors?: { extensions: object }[] };
  t.deepEqual(off.errors?.[0]?.extensions, { category: 'graphql-authorization' });
  store.knobs.setSettings({ allowIntegrationBearer: true });
  t.deepEqual(json(await gql(store, null, customers, { headers })), { data: { customers: { total_count: 6 } } });
});
