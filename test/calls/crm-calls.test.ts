// Issue 15, the calls a CRM makes, end to end against the mock store on every backend: GraphQL (proxy and client),
// store views (REST path, Store header, the list on GET /api/stores/:id), async and bulk, incremental reads while
// the mock changes entities between pages, and the per-store circuit breaker.
import test, { type ExecutionContext } from 'ava';
import type { Order } from '../../src/mock-store/data.js';
import {
  ChangesStalledError,
  MagentoGraphQLError,
  PageSizeTooLargeError,
  RequestRefusedError,
  StoreUnavailableError,
} from '../../src/store-api/errors.js';
import { changeFeed, type ChangesCursor } from '../../src/store-api/changes.js';
import { activatedStore, callApi, ours, type ActivatedStore } from '../helpers/activated.js';
import { forEachBackend } from '../helpers/db.js';

const clientOf = (a: ActivatedStore, storeCode?: string) =>
  a.connector.running.services.client(a.accountId).forStore(a.storeId, storeCode === undefined ? {} : { storeCode });
const graphqlUrl = (a: ActivatedStore) => `${a.connector.url}/api/stores/${a.storeId}/graphql`;
const postGraphql = (a: ActivatedStore, body: unknown, headers: Record<string, string> = {}) =>
  callApi(graphqlUrl(a), 'POST', a.apiKey, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const log = (a: ActivatedStore, kind: 'rest' | 'graphql') => a.mock.knobs.requests().filter((r) => r.kind === kind);

async function readAll<T>(feed: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of feed) out.push(x);
  return out;
}

/** Every (id, updated_at) once, in (updated_at, id) order. */
function assertOrdered(t: ExecutionContext, orders: Order[]): void {
  const pairs = orders.map((o) => `${o.entity_id}@${o.updated_at}`);
  t.is(new Set(pairs).size, pairs.length, 'no (entity, updated_at) twice');
  for (let i = 1; i < orders.length; i++) {
    const [a, b] = [orders[i - 1]!, orders[i]!];
    t.true(a.updated_at < b.updated_at || (a.updated_at === b.updated_at && a.entity_id < b.entity_id), `ordered at ${i}`);
  }
}

// A store that ignores the filters answers the same page again and again (Magento once answered pages past the end
// with the last page): the read stops with an error instead of looping. No database involved.
test('changes() on a store that answers the same page again: ChangesStalledError, not a loop', async (t) => {
  const page = { items: [{ entity_id: 1, updated_at: '2025-01-01 00:00:00' }, { entity_id: 2, updated_at: '2025-01-01 00:00:01' }], total_count: 10 };
  let calls = 0;
  const feed = changeFeed('V1/orders', { pageSize: 2 }, async () => {
    calls++;
    return page;
  });
  const seen: unknown[] = [];
  const err = await t.throwsAsync(
    (async () => {
      for await (const x of feed) seen.push(x);
    })(),
    { instanceOf: ChangesStalledError },
  );
  t.regex(err!.message, /no new item although 10 remain/);
  t.is(seen.length, 2);
  t.is(calls, 2);
  // An empty page while total_count says more: not the end either.
  const empty = changeFeed('V1/orders', {}, async () => ({ items: [], total_count: 3 }));
  await t.throwsAsync(empty.next(), { instanceOf: ChangesStalledError });
});

forEachBackend((backend, test) => {
  test('GraphQL through the proxy: signed, Store header passed through, Magento answer unchanged (errors too)', async (t) => {
    const a = await activatedStore(backend, t);
    const query = '{ products(filter: {sku: {eq: "24-MB01"}}) { items { sku name } total_count } }';
    const ok = await postGraphql(a, { query });
    t.is(ok.status, 200);
    t.is(ok.headers.get('x-connector-error'), null);
    t.deepEqual(ok.json, { data: { products: { items: [{ sku: '24-MB01', name: 'Joust Duffle Bag' }], total_count: 1 } } });

    // `customers` needs the integration's grant: only a correctly signed call is that integration.
    const customers = await postGraphql(a, { query: '{ customers(pageSize: 1) { items { email } } }' });
    t.is(customers.status, 200);
    t.falsy((customers.json as { errors?: unknown }).errors, customers.text);

    const fr = await postGraphql(a, { query: '{ storeConfig { code } }' }, { Store: 'fr' });
    t.deepEqual(fr.json, { data: { storeConfig: { code: 'fr' } } });

    // An error while executing: HTTP 200 with `errors`, as Magento sends it.
    const denied = await postGraphql(a, { query: '{ customer { email } }' });
    t.is(denied.status, 200);
    t.is(denied.headers.get('x-connector-error'), null);
    t.like((denied.json as { errors: unknown[] }).errors[0], { message: "The current customer isn't authorized.", path: ['customer'] });

    // Before execution: Magento's 500, unchanged, not our error.
    const unknown = await postGraphql(a, { query: '{ storeConfig { code } }' }, { Store: 'nope' });
    t.is(unknown.status, 500);
    t.is(unknown.headers.get('x-connector-error'), null);
    t.like((unknown.json as { errors: unknown[] }).errors[0], { message: 'Requested store is not found' });

    ours(t, await postGraphql(a, { query: '{ storeConfig { code } }' }, { Store: 'fr/../x' }), 400, 'request_refused');
    ours(t, await callApi(graphqlUrl(a), 'POST', a.apiKey, { headers: { 'content-type': 'text/plain' }, body: '{}' }), 415, 'unsupported_media_type');
    ours(t, await callApi(graphqlUrl(a), 'GET', a.apiKey), 405, 'method_not_allowed');
    ours(t, await callApi(graphqlUrl(a), 'POST', null, { headers: { 'content-type': 'application/json' }, body: '{}' }), 401, 'unauthorized');
    t.is(log(a, 'graphql').length, 5, 'every accepted call reached the store once');
  });

  test('GraphQL in the client: data, MagentoGraphQLError with messages, paths and categories, store code', async (t) => {
    const a = await activatedStore(backend, t);
    const store = clientOf(a);
    const data = await store.graphql<{ products: { items: { sku: string }[] } }>(
      'query P($sku: String) { products(filter: {sku: {eq: $sku}}) { items { sku } } }',
      { sku: '24-MB01' },
    );
    t.deepEqual(data.products.items, [{ sku: '24-MB01' }]);
    t.deepEqual(await clientOf(a, 'fr').graphql('{ storeConfig { code } }'), { storeConfig: { code: 'fr' } });
    t.deepEqual(await store.graphql('{ storeConfig { code } }', undefined, { storeCode: 'fr' }), { storeConfig: { code: 'fr' } });

    const err = await t.throwsAsync(store.graphql('{ storeConfig { code } customer { email } }'), { instanceOf: MagentoGraphQLError });
    t.is(err!.code, 'graphql_error');
    t.is(err!.status, 200);
    t.deepEqual(err!.messages, ["The current customer isn't authorized."]);
    t.deepEqual(err!.paths, [['customer']]);
    t.deepEqual(err!.categories, ['graphql-authorization']);
    t.deepEqual(err!.data, { storeConfig: { code: 'default' }, customer: null });
    t.regex(err!.message, /at customer: The current customer isn't authorized/);

    const pre = await t.throwsAsync(clientOf(a, 'nope').graphql('{ storeConfig { code } }'), { instanceOf: MagentoGraphQLError });
    t.is(pre!.status, 500);
    t.deepEqual(pre!.categories, ['graphql-input']);
    const syntax = await t.throwsAsync(store.graphql('{ products('), { instanceOf: MagentoGraphQLError });
    t.true(syntax!.messages[0]!.startsWith('Syntax Error'));
    t.throws(() => a.connector.running.services.client(a.accountId).forStore(a.storeId, { storeCode: 'a b' }), { instanceOf: RequestRefusedError });
  });

  test('store views: the code in REST paths, `all` for global saves; GET /api/stores/:id lists them when granted, cached', async (t) => {
    const a = await activatedStore(backend, t, { connector: { durations: { storeViewsTtlMs: 60_000 } } });
    const fr = clientOf(a, 'fr');
    a.mock.knobs.clearRequests();
    await fr.get('V1/products/24-MB01');
    await clientOf(a, 'all').put('V1/products/24-MB01', { product: { price: 35 } });
    await fr.get('V1/products/24-MB01', undefined, { storeCode: 'default' });
    t.deepEqual(log(a, 'rest').map((r) => `${r.method} ${r.path}`), [
      'GET /rest/fr/V1/products/24-MB01',
      'PUT /rest/all/V1/products/24-MB01',
      'GET /rest/default/V1/products/24-MB01',
    ]);

    const storeUrl = `${a.connector.url}/api/stores/${a.storeId}`;
    const first = await callApi(storeUrl, 'GET', a.apiKey);
    t.is(first.status, 200);
    const views = (first.json as { storeViews: { status: string; message: string } }).storeViews;
    t.is(views.status, 'not_granted');
    t.regex(views.message, /^Not granted: .*Magento_Backend::store/);
    a.mock.admin.update(a.integrationId, { resources: 'all' });
    a.mock.knobs.clearRequests();
    const again = await callApi(storeUrl, 'GET', a.apiKey);
    t.is((again.json as { storeViews: { status: string } }).storeViews.status, 'not_granted', 'served from the cache');
    t.is(log(a, 'rest').length, 0, 'no call to Magento for a second GET');

    a.connector.clock.advance(61_000);
    const later = await callApi(storeUrl, 'GET', a.apiKey);
    t.like((later.json as { storeViews: unknown }).storeViews, {
      status: 'ok',
      views: [
        { id: 1, code: 'default', name: 'Default Store View', websiteId: 1, storeGroupId: 1, active: true },
        { id: 2, code: 'fr', name: 'French Store View', websiteId: 1, storeGroupId: 1, active: true },
      ],
    });
    t.deepEqual(log(a, 'rest').map((r) => r.path), ['/rest/V1/store/storeViews']);

    // The account page shows them too.
    const page = await a.browser.get(`${a.connector.url}/account`);
    t.is(page.status, 200);
    t.regex(page.text, /French Store View/);
  });

  test('async and bulk: through the proxy, and bulk()/bulkStatus() in the client with every status', async (t) => {
    const a = await activatedStore(backend, t, { mock: { bulkProcessAfterMs: null } });
    // The proxy passes /rest/async/... and /rest/async/bulk/... like any path, signed.
    const one = await a.api('POST', 'async/V1/products', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ product: { sku: 'ASYNC-1', name: 'Async one', price: 3, attribute_set_id: 4 } }),
    });
    t.is(one.status, 202, one.text);
    const oneUuid = (one.json as { bulk_uuid: string }).bulk_uuid;
    const many = await a.api('PUT', 'default/async/bulk/V1/products/bySku', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ sku: '24-MB01', product: { price: 40 } }]),
    });
    t.is(many.status, 202, many.text);

    const store = clientOf(a);
    const accepted = await store.bulk('POST', 'V1/products', [
      { product: { sku: 'BULK-1', name: 'Bulk one', price: 1, attribute_set_id: 4 } },
      { product: { sku: 'BULK-2', name: 'Bulk two', price: 2, attribute_set_id: 4 } },
      { product: { sku: 'BULK-3', name: 'Bulk three', price: 3, attribute_set_id: 4 } },
      'not an object',
    ]);
    t.is(typeof accepted.bulkUuid, 'string');
    t.deepEqual(accepted.requestItems.map((i) => i.status), ['accepted', 'accepted', 'accepted', 'rejected']);
    t.is(accepted.requestItems[0]!.dataHash!.length, 64);
    t.truthy(accepted.requestItems[3]!.errorMessage);
    t.true(accepted.errors);

    const before = await store.bulkStatus(accepted.bulkUuid);
    t.like(before, { bulkUuid: accepted.bulkUuid, complete: 0, open: 3, rejected: 1, finished: false, operationCount: 4 });

    a.mock.knobs.failBulkOperations({ count: 1, status: 2, message: 'Deadlock found' });
    t.is(a.mock.knobs.processBulk(accepted.bulkUuid), 3);
    const after = await store.bulkStatus(accepted.bulkUuid);
    t.like(after, { complete: 2, retriable: 1, failed: 0, open: 0, rejected: 1, finished: true });
    t.deepEqual(after.operations.map((o) => o.status).sort(), ['complete', 'complete', 'rejected', 'retriable']);
    t.is(after.operations.find((o) => o.status === 'retriable')!.resultMessage, 'Deadlock found');
    t.like(after.operations.find((o) => o.status === 'complete')!.data, { product: { sku: 'BULK-2' } });
    t.truthy(a.mock.catalog.productBySku('BULK-2'));

    // A Magento error while running: not retriable.
    const dup = await store.async('POST', 'V1/products', { product: { name: 'no sku' } });
    a.mock.knobs.processBulk(dup.bulkUuid);
    const failed = await store.bulkStatus(dup.bulkUuid);
    t.true(failed.failed + failed.rejected === 1 && failed.finished, JSON.stringify(failed));
    t.like(await store.bulkStatus(oneUuid), { operationCount: 1 });
  });

  test('changes(): every order once, in (updated_at, id) order, while the mock touches orders between pages', async (t) => {
    const a = await activatedStore(backend, t);
    a.mock.knobs.seedOrders(500);
    const store = clientOf(a);
    const everything = await readAll(store.changes<Order>('V1/orders', { pageSize: 37 }));
    const ids = a.mock.catalog.ids('orders');
    t.is(everything.length, ids.length);
    t.deepEqual(new Set(everything.map((o) => o.entity_id)), new Set(ids));
    assertOrdered(t, everything);
    // Products and customers follow `id`.
    t.is((await readAll(store.changes('V1/products', { pageSize: 7 }))).length, a.mock.catalog.products.length);
    t.is((await readAll(store.changes('V1/customers/search', { pageSize: 3 }))).length, a.mock.catalog.customers.length);
    t.throws(() => store.changes('V1/orders', { pageSize: 0 }), { instanceOf: RequestRefusedError });

    // Between page 2 and 3: orders not read yet (ahead of the bound) and one already read are saved in the admin.
    const ahead = ids.slice(-300, -295);
    const alreadyRead = everything[3]!.entity_id;
    a.mock.knobs.touch('orders', [...ahead, alreadyRead], 2);
    a.mock.knobs.clearRequests();
    const feed = store.changes<Order>('V1/orders', { pageSize: 37 });
    const seen = await readAll(feed);
    assertOrdered(t, seen);
    const count = (id: number) => seen.filter((o) => o.entity_id === id).length;
    t.true(ids.every((id) => count(id) >= 1), 'nothing missed');
    for (const id of ahead) t.is(count(id), 1, `order ${id}, saved before it was read, is read once`);
    t.is(count(alreadyRead), 2, 'an order saved again after it was read comes again, with its new updated_at');
    t.is(seen.length, ids.length + 1);
    // The same kind of save with plain offset paging loses orders: the test above can fail.
    const firstTen = seen.slice(0, 10).map((o) => o.entity_id);
    // A later second than the read's last value (updated_at has whole seconds: see README on resuming).
    a.mock.knobs.advanceClock(2);
    a.mock.knobs.touch('orders', firstTen, 2);
    const paged = await readAll(store.paginate<Order>('V1/orders', { sort_orders: [{ field: 'updated_at', direction: 'ASC' }] }, { pageSize: 37 }));
    t.true(new Set(paged.map((o) => o.entity_id)).size < ids.length, 'offset paging misses some');

    // Resume from the cursor: only what changed since.
    const cursor: ChangesCursor = JSON.parse(JSON.stringify(feed.cursor));
    t.is(cursor.field, 'updated_at');
    t.is(cursor.value, seen.at(-1)!.updated_at);
    const resumedFeed = store.changes<Order>('V1/orders', { cursor });
    const resumed = await readAll(resumedFeed);
    t.deepEqual(resumed.map((o) => o.entity_id).sort((x, y) => x - y), [...firstTen].sort((x, y) => x - y), 'the ten saved during the offset walk');
    t.deepEqual(await readAll(store.changes<Order>('V1/orders', { cursor: resumedFeed.cursor })), [], 'then nothing new');
  });

  test('changes(): since, ties larger than a page, the default and the maximum page size, a store ignoring filters', async (t) => {
    const a = await activatedStore(backend, t, { mock: { sampleData: false } });
    a.mock.knobs.seedOrders(400, '2025-03-01 00:00:00'); // three orders per second
    const store = clientOf(a);
    a.mock.knobs.clearRequests();
    const all = await readAll(store.changes<Order>('V1/orders'));
    t.is(all.length, 400);
    assertOrdered(t, all);
    t.is(log(a, 'rest').length, 2, 'pages of 300 by default: two pages, and no page past the end');
    t.regex(decodeURIComponent(log(a, 'rest')[0]!.query), /searchCriteria\[pageSize\]=300/);

    const since = await readAll(store.changes<Order>('V1/orders', { since: '2025-03-01 00:01:00', pageSize: 2 }));
    t.is(since.length, 400 - 180);
    t.true(since.every((o) => o.updated_at >= '2025-03-01 00:01:00'));
    assertOrdered(t, since);
    const fromDate = await readAll(store.changes<Order>('V1/orders', { since: new Date('2025-03-01T00:02:00Z'), pageSize: 5 }));
    t.is(fromDate.length, 400 - 360);

    // 250 orders saved in one second: a tie larger than the id list of one filter, read by id order.
    a.mock.knobs.touch('orders', all.slice(0, 250).map((o) => o.entity_id));
    const tied = await readAll(store.changes<Order>('V1/orders', { pageSize: 100 }));
    t.is(tied.length, 400);
    assertOrdered(t, tied);

    const big = await t.throwsAsync(readAll(store.changes('V1/orders', { pageSize: 301 })), { instanceOf: PageSizeTooLargeError });
    t.is(big!.code, 'page_size_too_large');
    t.is(big!.maximum, 300);
    t.regex(big!.message, /at most 300 items per page.*pageSize: 300.*webapi\/validation\/maximum_page_size/);
    await t.throwsAsync(readAll(store.paginate('V1/orders', {}, { pageSize: 500 })), { instanceOf: PageSizeTooLargeError });
    a.mock.knobs.setSettings({ maxPageSize: null });
    t.is((await readAll(store.changes('V1/orders', { pageSize: 1000 }))).length, 400);
  });

  test('store availability: 503s in a row mark the store unavailable, calls fail fast, one trial call reopens it', async (t) => {
    const a = await activatedStore(backend, t, {
      connector: { limits: { maxRetries: 0, storeFailuresBeforeUnavailable: 3 }, durations: { storeCooldownMs: 30_000 } },
    });
    a.mock.knobs.addFault({ kind: 'fail', pathPrefix: '/rest/', count: 3, status: 503 });
    for (let i = 0; i < 3; i++) {
      const res = await a.api('GET', 'V1/products/24-MB01');
      t.is(res.status, 503, 'Magento\'s 503, passed through');
      t.is(res.headers.get('x-connector-error'), null);
    }
    a.mock.knobs.clearRequests();
    const fast = await a.api('GET', 'V1/products/24-MB01');
    t.regex(ours(t, fast, 503, 'store_unavailable'), /unavailable.*not a disconnection/);
    t.is(fast.headers.get('retry-after'), '30');
    await t.throwsAsync(clientOf(a).get('V1/products/24-MB01'), { instanceOf: StoreUnavailableError });
    t.is((await postGraphql(a, { query: '{ storeConfig { code } }' })).headers.get('x-connector-error'), 'store_unavailable');
    t.is(a.mock.knobs.requests().length, 0, 'nothing reached the store');

    const storeUrl = `${a.connector.url}/api/stores/${a.storeId}`;
    const view = (await callApi(storeUrl, 'GET', a.apiKey)).json as { state: string; availability: { state: string; consecutiveFailures: number; lastFailure: string } };
    t.is(view.state, 'active', 'not a revocation');
    t.like(view.availability, { state: 'unavailable', consecutiveFailures: 3, lastFailure: 'HTTP 503' });
    t.like(((await callApi(`${a.connector.url}/api/stores`, 'GET', a.apiKey)).json as { stores: unknown[] }).stores[0], { availability: { state: 'unavailable' } });
    t.regex((await a.browser.get(`${a.connector.url}/account`)).text, /unavailable/);
    t.regex(a.connector.logs(), /store availability: store\.unavailable/);

    // After the cool-down one trial goes through; it fails: another cool-down.
    a.connector.clock.advance(30_001);
    a.mock.knobs.addFault({ kind: 'fail', pathPrefix: '/rest/', count: 1, status: 502 });
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 502);
    ours(t, await a.api('GET', 'V1/products/24-MB01'), 503, 'store_unavailable');
    // The next trial succeeds: available again.
    a.connector.clock.advance(30_001);
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200);
    t.is((await a.api('GET', 'V1/products/24-MB02')).status, 200);
    t.like(((await callApi(storeUrl, 'GET', a.apiKey)).json as { availability: unknown }).availability, { state: 'available', consecutiveFailures: 0 });
    t.regex(a.connector.logs(), /store availability: store\.available/);

    // Unreachable counts too; a Magento 4xx or 500 does not.
    a.mock.knobs.addFault({ kind: 'fail', pathPrefix: '/rest/', count: 5, status: 500 });
    for (let i = 0; i < 5; i++) t.is((await a.api('GET', 'V1/products/24-MB01')).status, 500);
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200);
    await a.mock.close();
    for (let i = 0; i < 3; i++) ours(t, await a.api('GET', 'V1/products/24-MB01'), 502, 'store_unreachable');
    ours(t, await a.api('GET', 'V1/products/24-MB01'), 503, 'store_unavailable');
  });
});
