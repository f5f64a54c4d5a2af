// A key sees only its own account's stores: another account's store answers exactly like a store that does not
// exist, in the list, the detail, the proxy and DELETE. DELETE forgets the binding and its tokens.
import { activatedStore, callApi, connectStore, startCapturingMockStore } from '../helpers/activated.js';
import { forEachBackend, rawQuery } from '../helpers/db.js';

interface StoreView {
  id: string;
  state: string;
  storeBaseUrl: string;
  consumerKey: string;
  createdAt: string;
  updatedAt: string;
  activatedAt: string | null;
  revokedAt: string | null;
  reauthorizing: boolean;
  lastError: unknown;
  origin: string;
}

forEachBackend((backend, test) => {
  test("another account's store is a 404 store_not_found, the same answer as an unknown id", async (t) => {
    const a = await activatedStore(backend, t);
    const otherMock = await startCapturingMockStore(t);
    const b = await connectStore(a.connector, otherMock);
    t.not(a.accountId, b.accountId);

    a.mock.knobs.clearRequests();
    const api = (key: string, method: string, path: string, body?: string) =>
      callApi(`${a.connector.url}/api/stores/${path}`, method, key, body ? { body, headers: { 'content-type': 'application/json' } } : {});

    const unknownId = '3f1b2c4d-0000-4000-8000-000000000000';
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/rest/V1/products/24-MB01'],
      ['POST', '/rest/V1/products'],
      ['DELETE', ''],
    ] as const) {
      const foreign = await api(b.apiKey, method, `${a.storeId}${suffix}`, method === 'POST' ? '{"product":{}}' : undefined);
      const unknown = await api(b.apiKey, method, `${unknownId}${suffix}`, method === 'POST' ? '{"product":{}}' : undefined);
      t.is(foreign.status, 404, `${method} ${suffix}`);
      t.is(foreign.headers.get('x-connector-error'), 'store_not_found');
      t.deepEqual(foreign.json, unknown.json, 'indistinguishable from an unknown id');
      t.deepEqual(foreign.json, { error: { code: 'store_not_found', message: 'No store with this id belongs to your account.' } });
    }
    t.is(a.mock.knobs.requests().length, 0, "nothing reached A's store");
    t.truthy(await a.connector.binding(a.consumerKey), "B's DELETE left A's binding alone");

    // Each key lists its own store only.
    const listA = (await api(a.apiKey, 'GET', '')).json as { stores: StoreView[] };
    const listB = (await api(b.apiKey, 'GET', '')).json as { stores: StoreView[] };
    t.deepEqual(listA.stores.map((s) => s.id), [a.storeId]);
    t.deepEqual(listB.stores.map((s) => s.id), [b.storeId]);
    const own = await callApi(`${a.connector.url}/api/stores`, 'GET', a.apiKey);
    t.is(own.status, 200);
    t.deepEqual(own.json, listA);

    // The detail: state, base URL, timestamps; never a secret.
    const detail = await api(a.apiKey, 'GET', a.storeId);
    t.is(detail.status, 200);
    const view = detail.json as StoreView;
    t.like(view, { id: a.storeId, state: 'active', storeBaseUrl: a.mock.baseUrl, consumerKey: a.consumerKey, revokedAt: null, reauthorizing: false, lastError: null });
    t.truthy(view.activatedAt);
    // availability (this instance's circuit), unavailable (recorded for every instance), the probe's warning,
    // storeViews (what the integration can see), signing, timeline and origin too.
    t.is(view.origin, 'callback');
    t.deepEqual(Object.keys(view).sort(), ['accountId', 'activatedAt', 'availability', 'consumerKey', 'createdAt', 'id', 'lastError', 'origin', 'probeWarning', 'reauthorizing', 'revokedAt', 'signing', 'state', 'storeBaseUrl', 'storeViews', 'timeline', 'unavailable', 'updatedAt']);
    const consumerSecret = a.mock.admin.get(a.integrationId).consumerSecret;
    t.false(detail.text.includes(consumerSecret));
    t.false(detail.text.includes(a.binding.accessToken!.token));
  });

  test('DELETE /api/stores/:id forgets the binding and its tokens: 204, the row is gone, later calls get 404', async (t) => {
    const a = await activatedStore(backend, t);
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200, 'the binding is cached now');

    const del = await callApi(`${a.connector.url}/api/stores/${a.storeId}`, 'DELETE', a.apiKey);
    t.is(del.status, 204);
    t.is(del.text, '');
    t.truthy(del.headers.get('x-request-id'));

    const rows = await rawQuery(a.connector.backend, a.connector.databaseUrl, `SELECT "id" FROM "Binding" WHERE "id" = '${a.storeId}' OR "consumerKey" = '${a.consumerKey}'`);
    t.deepEqual(rows, [], 'the row, and the sealed tokens in it, are gone');

    const after = await a.api('GET', 'V1/products/24-MB01');
    t.is(after.status, 404);
    t.is(after.headers.get('x-connector-error'), 'store_not_found');
    const again = await callApi(`${a.connector.url}/api/stores/${a.storeId}`, 'DELETE', a.apiKey);
    t.is(again.status, 404);
    t.is(again.headers.get('x-connector-error'), 'store_not_found');
    t.deepEqual((await callApi(`${a.connector.url}/api/stores`, 'GET', a.apiKey)).json, { stores: [] });
    t.is(a.mock.admin.get(a.integrationId).status, 'active', 'the integration in Magento stays (delete it there)');
  });

  test('a store of the account that is not active: 409 store_not_active with its state, nothing sent', async (t) => {
    const a = await activatedStore(backend, t);
    const storage = a.connector.running.services.storage;
    const current = (await storage.bindings.byId(a.storeId))!;
    await storage.bindings.update(a.storeId, current.version, { state: 'failed', lastError: 'The store answered HTTP 500', fix: 'check_store' });
    a.connector.running.services.stores.evictCached(a.storeId);
    a.mock.knobs.clearRequests();
    const res = await a.api('GET', 'V1/products/24-MB01');
    t.is(res.status, 409);
    t.is(res.headers.get('x-connector-error'), 'store_not_active');
    const body = res.json as { error: { code: string; message: string } };
    t.is(body.error.code, 'store_not_active');
    t.regex(body.error.message, /state: failed/);
    t.regex(body.error.message, /The store answered HTTP 500/);
    t.is(a.mock.knobs.requests().length, 0);
  });
});
