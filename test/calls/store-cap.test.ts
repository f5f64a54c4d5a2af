// The per-store cap on requests in flight: with room for 2 in flight and 1 waiting, a 4th concurrent call to a slow
// store is refused at once with 503 store_busy and Retry-After, while another store is served as usual.
import { activatedStore, connectStore, startCapturingMockStore } from '../helpers/activated.js';
import { waitFor } from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';

forEachBackend((backend, test) => {
  test('a 4th concurrent call gets 503 store_busy with Retry-After; another store is unaffected', async (t) => {
    const a = await activatedStore(backend, t, { connector: { limits: { perStoreConcurrency: 2, perStoreQueue: 1 } } });
    // A second store of the same account, on another (fast) store.
    const otherMock = await startCapturingMockStore(t);
    const b = await connectStore(a.connector, otherMock, { email: a.email, password: a.password, form: 'login' });
    t.is(b.accountId, a.accountId);

    const gateway = a.connector.running.services.stores;

    a.mock.knobs.clearRequests();
    a.mock.knobs.addFault({ kind: 'slow', pathPrefix: '/rest/', count: 3, delayMs: 1_500 });
    const first = [a.api('GET', 'V1/products/24-MB01'), a.api('GET', 'V1/products/24-MB02')];
    await waitFor('two calls in flight at the store', () => a.mock.knobs.listFaults()[0]?.remaining === 1);
    t.is(gateway.inFlight(a.storeId), 2);
    const third = a.api('GET', 'V1/products/24-MB03');
    await waitFor('the third call to wait in the queue', () => gateway.queued(a.storeId) === 1);

    const fourth = await a.api('GET', 'V1/products/24-MB04');
    t.is(fourth.status, 503);
    t.is(fourth.headers.get('x-connector-error'), 'store_busy');
    t.is(fourth.headers.get('retry-after'), '1');
    t.truthy(fourth.headers.get('x-request-id'));
    t.like(fourth.json, { error: { code: 'store_busy' } });
    t.regex((fourth.json as { error: { message: string } }).error.message, /retry shortly/);

    // Meanwhile the other store answers as usual.
    const other = await fetch(`${b.restUrl}V1/products/24-MB01`, { headers: { authorization: `Bearer ${b.apiKey}` } });
    t.is(other.status, 200);
    t.is(otherMock.knobs.requests().filter((r) => r.kind === 'rest').length, 1);

    const done = await Promise.all([...first, third]);
    t.deepEqual(done.map((r) => r.status), [200, 200, 200]);
    t.deepEqual(
      a.mock.knobs.requests().map((r) => r.path).sort(),
      ['/rest/V1/products/24-MB01', '/rest/V1/products/24-MB02', '/rest/V1/products/24-MB03'],
      'the refused call never reached the store',
    );
    t.is(gateway.inFlight(a.storeId), 0, 'every slot is given back');
    t.is((await a.api('GET', 'V1/products/24-MB04')).status, 200);
  });
});
