// What the proxy does when the store is slow, overloaded or gone: idempotent calls are retried (429 with its
// Retry-After, 502/503/504, network errors), POST never is; a Retry-After above the cap is handed to the caller;
// timeouts and an unreachable store are our own errors (504, 502). The mock's request log counts the attempts.
import { activatedStore, type ActivatedStore, ours } from '../helpers/activated.js';
import { forEachBackend } from '../helpers/db.js';

const attempts = (a: ActivatedStore) =>
  a.mock.knobs
    .requests()
    .filter((r) => r.kind === 'rest')
    .map((r) => [r.method, r.status, r.fault ?? null]);


forEachBackend((backend, test) => {
  test('429 with Retry-After: the GET is retried after it and succeeds; the caller sees only the 200', async (t) => {
    const a = await activatedStore(backend, t);
    a.mock.knobs.clearRequests();
    a.mock.knobs.addFault({ kind: 'rateLimit', pathPrefix: '/rest/', count: 1, retryAfter: 1 });
    const res = await a.api('GET', 'V1/products/24-MB01');
    t.is(res.status, 200, res.text);
    t.is((res.json as { sku: string }).sku, '24-MB01');
    t.is(res.headers.get('retry-after'), null);
    t.deepEqual(attempts(a), [
      ['GET', 429, 'rateLimit'],
      ['GET', 200, null],
    ]);
  });

  test('503 is retried for GET, PUT and DELETE until it passes; after the last retry Magento\'s answer is returned as is', async (t) => {
    const a = await activatedStore(backend, t, { connector: { limits: { maxRetries: 2 } } });
    a.mock.knobs.clearRequests();
    a.mock.knobs.addFault({ kind: 'fail', pathPrefix: '/rest/', count: 2, status: 503 });
    const ok = await a.api('GET', 'V1/customers/1');
    t.is(ok.status, 200, ok.text);
    t.deepEqual(attempts(a), [
      ['GET', 503, 'fail'],
      ['GET', 503, 'fail'],
      ['GET', 200, null],
    ]);

    a.mock.knobs.clearRequests();
    a.mock.knobs.addFault({ kind: 'fail', pathPrefix: '/rest/', count: 1, status: 502, phase: 'after' });
    const put = await a.api('PUT', 'V1/products/24-MB01', { headers: { 'content-type': 'application/json' }, body: '{"product":{"price":99}}' });
    t.is(put.status, 200, put.text);
    t.is(a.mock.catalog.productBySku('24-MB01')?.price, 99);
    t.deepEqual(attempts(a), [
      ['PUT', 502, 'fail'],
      ['PUT', 200, null],
    ]);

    a.mock.knobs.clearRequests();
    a.mock.knobs.addFault({ kind: 'fail', pathPrefix: '/rest/', count: 5, status: 503, body: '<h1>Service Unavailable</h1>' });
    const gaveUp = await a.api('GET', 'V1/customers/1');
    t.is(gaveUp.status, 503);
    t.is(gaveUp.text, '<h1>Service Unavailable</h1>');
    t.is(gaveUp.headers.get('content-type'), 'text/html; charset=UTF-8', 'as the store sent it, upper-case UTF-8 included');
    t.is(gaveUp.headers.get('x-connector-error'), null, "the store's 503 is not ours");
    t.is(attempts(a).length, 3, 'one attempt and two retries');
  });

  test('POST is never retried: one attempt, the 503 returned as is, the product created once', async (t) => {
    const a = await activatedStore(backend, t);
    a.mock.knobs.clearRequests();
    a.mock.knobs.addFault({ kind: 'fail', pathPrefix: '/rest/', method: 'POST', count: 3, status: 503, phase: 'after' });
    const body = '{"product":{"sku":"ONCE-1","name":"Only once","price":1}}';
    const res = await a.api('POST', 'V1/products', { headers: { 'content-type': 'application/json' }, body });
    t.is(res.status, 503);
    t.regex(res.text, /503 Service Unavailable/);
    t.is(res.headers.get('x-connector-error'), null);
    t.deepEqual(attempts(a), [['POST', 503, 'fail']]);
    t.is(a.mock.catalog.products.filter((p) => p.sku === 'ONCE-1').length, 1, 'the store acted once');

    // A 429 is not retried for POST either.
    a.mock.knobs.clearFaults();
    a.mock.knobs.clearRequests();
    a.mock.knobs.addFault({ kind: 'rateLimit', pathPrefix: '/rest/', count: 1, retryAfter: 0 });
    const limited = await a.api('POST', 'V1/products', { headers: { 'content-type': 'application/json' }, body });
    t.is(limited.status, 429);
    t.is(limited.headers.get('retry-after'), '0');
    t.deepEqual(attempts(a), [['POST', 429, 'rateLimit']]);
  });

  test('a Retry-After above the cap is not waited for: the 429 and its Retry-After go back to the caller', async (t) => {
    const a = await activatedStore(backend, t, { connector: { limits: { retryAfterCapMs: 2_000 } } });
    a.mock.knobs.clearRequests();
    a.mock.knobs.addFault({ kind: 'rateLimit', pathPrefix: '/rest/', count: 1, retryAfter: 120 });
    const res = await a.api('GET', 'V1/products/24-MB01');
    t.is(res.status, 429);
    t.is(res.headers.get('retry-after'), '120');
    t.is(res.headers.get('content-type'), 'application/json; charset=utf-8');
    t.is(res.text, '{"message":"Too Many Requests"}');
    t.is(res.headers.get('x-connector-error'), null);
    t.deepEqual(attempts(a), [['GET', 429, 'rateLimit']]);
  });

  test('a store slower than the total timeout: 504 store_timeout (after the retries for a GET, at once for a POST)', async (t) => {
    const a = await activatedStore(backend, t, { connector: { limits: { totalTimeoutMs: 1_000, maxRetries: 1 } } });
    a.mock.knobs.clearRequests();
    a.mock.knobs.addFault({ kind: 'slow', pathPrefix: '/rest/', count: 3, delayMs: 4_000 });
    const get = await a.api('GET', 'V1/products/24-MB01');
    t.regex(ours(t, get, 504, 'store_timeout'), /did not answer in time/);
    const post = await a.api('POST', 'V1/products', {
      headers: { 'content-type': 'application/json' },
      body: '{"product":{"sku":"SLOW-1","name":"Slow","price":1}}',
    });
    ours(t, post, 504, 'store_timeout');
    // GET: two attempts (one retry); POST: one. The slow requests are still being answered, so count the faults taken.
    t.is(a.mock.knobs.listFaults().length, 0, 'three slow requests reached the store');
    t.is((await a.connector.binding(a.consumerKey))?.state, 'active', 'a timeout does not touch the binding');
  });

  test('a store that is gone: 502 store_unreachable, the binding stays active', async (t) => {
    const a = await activatedStore(backend, t);
    await a.mock.close();
    const res = await a.api('GET', 'V1/products/24-MB01');
    t.regex(ours(t, res, 502, 'store_unreachable'), /Could not reach the store at http:\/\/127\.0\.0\.1:\d+\/: could not connect/);
    const post = await a.api('POST', 'V1/products', { headers: { 'content-type': 'application/json' }, body: '{}' });
    ours(t, post, 502, 'store_unreachable');
    t.is((await a.connector.binding(a.consumerKey))?.state, 'active');
  });
});
