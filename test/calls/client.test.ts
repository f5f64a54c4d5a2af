// The TypeScript client for services in the same process: the same calls as the proxy, decoded, with typed errors.
// Magento's error messages come with their placeholders filled (the proxy returns the raw body instead).
import {
  MagentoApiError,
  RequestRefusedError,
  StoreBusyError,
  StoreNotFoundError,
  StoreTimeoutError,
  StoreUnreachableError,
} from '../../src/store-api/errors.js';
import type { Product } from '../../src/mock-store/data.js';
import { activatedStore, connectStore, startCapturingMockStore, type ActivatedStore } from '../helpers/activated.js';
import { forEachBackend } from '../helpers/db.js';

const clientOf = (a: ActivatedStore, storeId = a.storeId, accountId = a.accountId) =>
  a.connector.running.services.client(accountId).forStore(storeId);
const restLog = (a: ActivatedStore) => a.mock.knobs.requests().filter((r) => r.kind === 'rest');

forEachBackend((backend, test) => {
  test('get, post, put and delete, with a store code and a nested searchCriteria object', async (t) => {
    const a = await activatedStore(backend, t);
    const store = clientOf(a);

    t.is((await store.get<Product>('V1/products/24-MB01')).name, 'Joust Duffle Bag');
    t.is((await store.get<Product>('/V1/products/24-MB01', undefined, { storeCode: 'default' })).sku, '24-MB01');
    t.is((await store.get<Product>(`V1/products/${encodeURIComponent('WS12 XS')}`)).sku, 'WS12 XS');

    const created = await store.post<Product>('V1/products', { product: { sku: 'CLI-1', name: 'Client & "quotes" ✓', price: 5 } });
    t.like(created, { sku: 'CLI-1', name: 'Client & "quotes" ✓', price: 5 });
    const updated = await store.put<Product>('V1/products/CLI-1', { product: { price: 6.5 } }, { storeCode: 'all' });
    t.like(updated, { sku: 'CLI-1', price: 6.5 });
    t.is(await store.delete<boolean>('V1/products/CLI-1'), true);
    t.is(a.mock.catalog.productBySku('CLI-1'), undefined);
    t.is(a.mock.bodies.find((b) => b.method === 'POST')?.contentType, 'application/json');

    const found = await store.get<{ items: Product[]; total_count: number }>('V1/products', {
      searchCriteria: {
        filter_groups: [
          { filters: [{ field: 'name', value: 'Sprite Stasis Ball%', condition_type: 'like' }] },
          { filters: [{ field: 'price', value: 25, condition_type: 'gt' }] },
        ],
        sort_orders: [{ field: 'price', direction: 'DESC' }],
      },
    });
    t.deepEqual(found.items.map((p) => p.sku), ['24-WG083-blue', '24-WG082-blue']);
    t.is(found.total_count, 2);

    t.deepEqual(
      restLog(a).map((r) => `${r.method} ${r.path}`).slice(0, 5),
      [
        'GET /rest/V1/products/24-MB01',
        'GET /rest/default/V1/products/24-MB01',
        'GET /rest/V1/products/WS12%20XS',
        'POST /rest/V1/products',
        'PUT /rest/all/V1/products/CLI-1',
      ],
    );
  });

  test('paginate walks every page of products, by total_count, and stops', async (t) => {
    const a = await activatedStore(backend, t);
    const store = clientOf(a);
    a.mock.knobs.clearRequests();
    const all: Product[] = [];
    for await (const p of store.paginate<Product>('V1/products', {}, { pageSize: 5 })) all.push(p);
    t.is(all.length, a.mock.catalog.products.length);
    t.is(all.length, 32);
    t.deepEqual(all.map((p) => p.id), a.mock.catalog.products.map((p) => p.id));
    t.is(new Set(all.map((p) => p.sku)).size, 32, 'no item twice');
    t.is(restLog(a).length, 7, 'ceil(32 / 5) pages, not one more');

    // With a filter (LIKE is case-insensitive, as in MySQL): 4 matching products, pages of 3.
    a.mock.knobs.clearRequests();
    const blue: string[] = [];
    const criteria = { filter_groups: [{ filters: [{ field: 'sku', value: '%-blue', condition_type: 'like' }] }] };
    for await (const p of store.paginate<Product>('V1/products', criteria, { pageSize: 3 })) blue.push(p.sku);
    t.deepEqual(blue, ['24-WG081-blue', '24-WG082-blue', '24-WG083-blue', 'WS12/XS-Blue']);
    t.is(restLog(a).length, 2);

    // Nothing matches: one request, nothing yielded.
    a.mock.knobs.clearRequests();
    const none: Product[] = [];
    const nothing = { filter_groups: [{ filters: [{ field: 'sku', value: 'NOPE' }] }] };
    for await (const p of store.paginate<Product>('V1/products', nothing)) none.push(p);
    t.deepEqual(none, []);
    t.is(restLog(a).length, 1);
  });

  test("MagentoApiError: status, Magento's message with its placeholders filled, raw message and parameters kept", async (t) => {
    const a = await activatedStore(backend, t);
    const store = clientOf(a);
    const err = await t.throwsAsync(store.get('V1/customers/2000'), { instanceOf: MagentoApiError });
    t.is(err!.status, 404);
    t.is(err!.message, 'Magento answered 404: No such entity with customerId = 2000');
    t.is(err!.magentoMessage, 'No such entity with %fieldName = %fieldValue');
    t.deepEqual(err!.parameters, { fieldName: 'customerId', fieldValue: 2000 });
    t.is(err!.code, 'magento_error');

    // The proxy, for the same call, returns Magento's raw body.
    const raw = await a.api('GET', 'V1/customers/2000');
    t.is(raw.text, '{"message":"No such entity with %fieldName = %fieldValue","parameters":{"fieldName":"customerId","fieldValue":2000}}');

    const positional = await t.throwsAsync(store.get('V1/products', { searchCriteria: { filter_groups: [{ filters: [{ field: 'colour', value: 'x' }] }] } }), {
      instanceOf: MagentoApiError,
    });
    t.is(positional!.message, 'Magento answered 400: Invalid attribute name: colour');

    const denied = await t.throwsAsync(store.get('V1/store/storeConfigs'), { instanceOf: MagentoApiError });
    t.is(denied!.status, 401);
    t.is(denied!.message, "Magento answered 401: The consumer isn't authorized to access Magento_Backend::store.");
    t.is((await a.connector.binding(a.consumerKey))?.state, 'active');
  });

  test('typed errors: not found, refused, busy, timeout, unreachable', async (t) => {
    const a = await activatedStore(backend, t, { connector: { limits: { totalTimeoutMs: 1_000, maxRetries: 0, perStoreConcurrency: 1, perStoreQueue: 0 } } });
    const store = clientOf(a);

    const otherMock = await startCapturingMockStore(t);
    const b = await connectStore(a.connector, otherMock);
    await t.throwsAsync(clientOf(a, b.storeId).get('V1/products/24-MB01'), { instanceOf: StoreNotFoundError });
    await t.throwsAsync(clientOf(a, a.storeId, b.accountId).get('V1/products/24-MB01'), { instanceOf: StoreNotFoundError });

    const refused = await t.throwsAsync(
      store.get('V1/products', {
        searchCriteria: { filter_groups: Array.from({ length: 11 }, () => ({ filters: [{ field: 'price', value: 1, condition_type: 'gt' }] })) },
      }),
      { instanceOf: RequestRefusedError },
    );
    t.is(refused!.code, 'request_refused');
    t.regex(refused!.message, /below 10/);
    await t.throwsAsync(store.get('V1/products', { searchCriteria: { when: new Date() as never } }), { instanceOf: RequestRefusedError });

    a.mock.knobs.addFault({ kind: 'slow', pathPrefix: '/rest/', count: 1, delayMs: 3_000 });
    const slow = store.get('V1/products/24-MB01');
    // One call in flight and no queue: a second call is refused at once.
    const busy = await t.throwsAsync(store.get('V1/products/24-MB02'), { instanceOf: StoreBusyError });
    t.is(busy!.code, 'store_busy');
    const timeout = await t.throwsAsync(slow, { instanceOf: StoreTimeoutError });
    t.is(timeout!.code, 'store_timeout');

    await a.mock.close();
    const gone = await t.throwsAsync(store.get('V1/products/24-MB01'), { instanceOf: StoreUnreachableError });
    t.is(gone!.code, 'store_unreachable');
    // A new connection is refused; a kept-alive one left idle by earlier calls (the profile detection's two parallel
    // probes leave one) is reset by the closing store instead. Either way the store is unreachable.
    t.regex(gone!.message, /could not connect|connection reset by the server/);
  });
});
