// The REST client's retry rules with a scripted transport, for what the mock store cannot produce: Retry-After as an
// HTTP date, unreadable Retry-After values, network errors. Waits are recorded, never slept.
import test from 'ava';
import { createRestClient, retryAfterMs, type RetryPolicy } from '../../src/protocol/rest-client.js';
import { UpstreamUnreachableError } from '../../src/protocol/transport-errors.js';
import type { Transport, TransportRequest, TransportResponse } from '../../src/protocol/transport.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const clock = { now: () => NOW };
const policy: RetryPolicy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1_000, retryAfterCapMs: 60_000 };
const store = {
  storeBaseUrl: 'https://shop.example.com/',
  consumerKey: 'k'.repeat(32),
  consumerSecret: 's'.repeat(32),
  accessToken: { key: 't'.repeat(32), secret: 'u'.repeat(32) },
};

type Step = TransportResponse | Error;
const answer = (status: number, headers: Record<string, string> = {}): TransportResponse => ({ status, headers, body: Buffer.from('{}') });

function scripted(steps: Step[]) {
  const requests: TransportRequest[] = [];
  const waits: number[] = [];
  const transport: Transport = {
    async request(req) {
      requests.push(req);
      const step = steps.shift();
      if (!step) throw new Error('no more scripted answers');
      if (step instanceof Error) throw step;
      return step;
    },
    close() {},
  };
  const client = createRestClient({ transport, retry: policy, clock, random: () => 0.5, wait: async (ms) => void waits.push(ms) });
  return { client, requests, waits };
}

test('Retry-After as an HTTP date is waited for, up to the cap; a later date is returned to the caller', async (t) => {
  const inTwenty = new Date(NOW.getTime() + 20_000).toUTCString();
  const s = scripted([answer(503, { 'retry-after': inTwenty }), answer(200)]);
  const res = await s.client.send(store, { method: 'GET', path: 'V1/products' });
  t.is(res.status, 200);
  t.is(res.attempts, 2);
  t.deepEqual(s.waits, [20_000]);

  const inTwoMinutes = new Date(NOW.getTime() + 120_000).toUTCString();
  const late = scripted([answer(429, { 'retry-after': inTwoMinutes })]);
  const given = await late.client.send(store, { method: 'GET', path: 'V1/products' });
  t.is(given.status, 429);
  t.is(given.headers['retry-after'], inTwoMinutes);
  t.deepEqual(late.waits, []);
});

test('an unreadable Retry-After falls back to the backoff instead of a retry at once', async (t) => {
  for (const value of ['1.5', '-1', 'soon', '']) {
    const s = scripted([answer(503, { 'retry-after': value }), answer(200)]);
    t.is((await s.client.send(store, { method: 'GET', path: 'V1/products' })).status, 200);
    t.deepEqual(s.waits, [75], JSON.stringify(value)); // base 100 ms, jitter at its middle
  }
  t.is(retryAfterMs('7', NOW), 7_000);
  t.is(retryAfterMs(' 0 ', NOW), 0);
  t.is(retryAfterMs(new Date(NOW.getTime() - 5_000).toUTCString(), NOW), 0, 'a date in the past: now');
  t.is(retryAfterMs('1.5', NOW), undefined);
  t.is(retryAfterMs('-1', NOW), undefined);
});

test('network errors: GET retried with growing backoff and a fresh signature each time; POST not retried', async (t) => {
  const down = () => new UpstreamUnreachableError('shop.example.com', 443, 'connection refused', 'connect', false);
  const s = scripted([down(), down(), answer(502), answer(200)]);
  const res = await s.client.send(store, { method: 'GET', path: 'V1/products' });
  t.is(res.status, 200);
  t.is(res.attempts, 4);
  t.deepEqual(s.waits, [75, 150, 300]);
  const nonces = s.requests.map((r) => /oauth_nonce="([^"]+)"/.exec(r.headers!.Authorization!)![1]);
  t.is(new Set(nonces).size, 4, 'every attempt is signed anew');

  const post = scripted([down()]);
  await t.throwsAsync(post.client.send(store, { method: 'POST', path: 'V1/products', body: '{}', contentType: 'application/json' }), {
    instanceOf: UpstreamUnreachableError,
  });
  t.is(post.requests.length, 1);

  const gaveUp = scripted([down(), down(), down(), down()]);
  await t.throwsAsync(gaveUp.client.send(store, { method: 'DELETE', path: 'V1/products/x' }), { instanceOf: UpstreamUnreachableError });
  t.is(gaveUp.requests.length, 4, 'one attempt and maxRetries retries');
});
