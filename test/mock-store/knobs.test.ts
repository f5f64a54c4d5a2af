// The test knobs over HTTP: clock, faults (slow, fail, rate limit, drop before/after), request log, signature
// mode; and that they are absent unless the store runs in test mode.
import test from 'ava';
import { callbackReceiver, createAndActivate, json, problem, raw, requestToken, startStore } from './helpers.js';

const post = (url: string, body: unknown) =>
  raw({ method: 'POST', url, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

test('POST /__mock/clock {advanceSeconds} moves the store clock past the 300 s window', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const before = store.clock.now().getTime();
  const res = await post(`${store.baseUrl}__mock/clock`, { advanceSeconds: 301 });
  t.is(res.status, 200);
  t.true(Date.parse((json(res) as { now: string }).now) - before >= 301_000);
  t.is(problem(await requestToken(store.baseUrl, callback)), 'Consumer key has expired');
});

test('faults: fail (5xx) for the next N matching requests, then normal again', async (t) => {
  const store = await startStore(t);
  const origin = store.baseUrl.replace(/\/$/, '');
  const added = await post(`${origin}/__mock/faults`, { kind: 'fail', pathPrefix: '/rest/', count: 2, status: 502 });
  t.is(added.status, 201);
  const url = `${origin}/rest/V1/customers/1`;
  t.is((await raw({ method: 'GET', url })).status, 502);
  t.is((await raw({ method: 'GET', url })).status, 502);
  t.is((await raw({ method: 'GET', url })).status, 401, 'the third request reaches the store');
});

test('faults: rateLimit answers 429 with Retry-After', async (t) => {
  const store = await startStore(t);
  store.knobs.addFault({ kind: 'rateLimit', pathPrefix: '/rest/', retryAfter: 7 });
  const res = await raw({ method: 'GET', url: `${store.baseUrl}rest/V1/customers/1` });
  t.is(res.status, 429);
  t.is(res.headers['retry-after'], '7');
});

test('faults: slow delays the answer but still answers', async (t) => {
  const store = await startStore(t);
  store.knobs.addFault({ kind: 'slow', pathPrefix: '/rest/', delayMs: 50 });
  const res = await raw({ method: 'GET', url: `${store.baseUrl}rest/V1/customers/1` });
  t.is(res.status, 401);
  t.is(store.knobs.requests().at(-1)!.fault, 'slow');
});

test('faults: drop before -> socket closed, nothing happened; drop after -> the request token was issued and lost', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  store.knobs.addFault({ kind: 'drop', pathPrefix: '/oauth/token/request' });
  await t.throwsAsync(requestToken(store.baseUrl, callback), { message: /socket hang up|ECONNRESET/ });
  t.is(store.tables.tokensOf(store.tables.consumerByKey(callback.oauth_consumer_key)!.id)[0]!.type, 'verifier');

  store.knobs.addFault({ kind: 'drop', pathPrefix: '/oauth/token/request', phase: 'after' });
  await t.throwsAsync(requestToken(store.baseUrl, callback), { message: /socket hang up|ECONNRESET/ });
  t.is(store.tables.tokensOf(store.tables.consumerByKey(callback.oauth_consumer_key)!.id)[0]!.type, 'request');
  const retry = await requestToken(store.baseUrl, callback);
  t.is(problem(retry), 'Cannot create request token because consumer token is not a verifier token');
});

test('faults: fail after -> the store acted, the client sees a 5xx', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  store.knobs.addFault({ kind: 'fail', pathPrefix: '/oauth/token/request', phase: 'after', status: 504, body: 'gateway timeout' });
  const res = await requestToken(store.baseUrl, callback);
  t.is(res.status, 504);
  t.is(res.body, 'gateway timeout');
  t.is((await requestToken(store.baseUrl, callback)).status, 401);
});

test('faults are validated: unknown kind 400', async (t) => {
  const store = await startStore(t);
  const res = await post(`${store.baseUrl}__mock/faults`, { kind: 'explode', pathPrefix: '/' });
  t.is(res.status, 400);
});

test('GET /__mock/requests logs token and REST calls with method, path and status', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  await requestToken(store.baseUrl, callback);
  await requestToken(store.baseUrl, callback);
  await raw({ method: 'GET', url: `${store.baseUrl}rest/V1/customers/1?x=1` });
  const log = (json(await raw({ method: 'GET', url: `${store.baseUrl}__mock/requests` })) as {
    items: { method: string; path: string; status: number; kind: string; query: string }[];
  }).items;
  const tokenCalls = log.filter((e) => e.path.endsWith('/oauth/token/request'));
  t.deepEqual(tokenCalls.map((e) => [e.method, e.status, e.kind]), [
    ['POST', 200, 'token'],
    ['POST', 401, 'token'],
  ]);
  t.like(log.at(-1), { method: 'GET', path: '/rest/V1/customers/1', query: 'x=1', status: 401, kind: 'rest' });
  t.false(log.some((e) => e.path.startsWith('/__mock')), 'knob calls are not logged');
  t.is((await raw({ method: 'DELETE', url: `${store.baseUrl}__mock/requests` })).status, 204);
  t.is(store.knobs.requests().length, 0);
});

test('POST /__mock/signatures switches benchmark mode', async (t) => {
  const store = await startStore(t);
  const url = `${store.baseUrl}rest/V1/customers/1`;
  t.is((await raw({ method: 'GET', url })).status, 401);
  t.is((await post(`${store.baseUrl}__mock/signatures`, { check: false })).status, 200);
  t.is((await raw({ method: 'GET', url })).status, 200);
});

test('without testMode there are no /__mock routes', async (t) => {
  const store = await startStore(t, { testMode: false });
  t.is((await post(`${store.baseUrl}__mock/clock`, { advanceSeconds: 400 })).status, 404);
  t.is((await raw({ method: 'GET', url: `${store.baseUrl}__mock/requests` })).status, 404);
});

test('the token cleanup knob removes old request rows', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  t.is((await requestToken(store.baseUrl, callback)).status, 200);
  store.knobs.advanceClock(121 * 60);
  const res = await raw({ method: 'POST', url: `${store.baseUrl}__mock/token-cleanup` });
  t.deepEqual(json(res), { deleted: 1 });
});
