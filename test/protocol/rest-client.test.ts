// The REST client's waits and its signing profile, with a scripted transport. The waits here are real (the default
// wait): a caller who hangs up must be released at once, not after the Retry-After or the backoff.
import test from 'ava';
import { backoffDelayMs } from '../../src/protocol/backoff.js';
import { SigningError } from '../../src/protocol/errors.js';
import { createRestClient, type RetryPolicy, type StoreCredentials } from '../../src/protocol/rest-client.js';
import { RequestAbortedError, UpstreamUnreachableError } from '../../src/protocol/transport-errors.js';
import type { Transport, TransportRequest, TransportResponse } from '../../src/protocol/transport.js';

const policy: RetryPolicy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1_000, retryAfterCapMs: 120_000 };
const store: StoreCredentials = {
  storeBaseUrl: 'https://shop.example.com/',
  consumerKey: 'k'.repeat(32),
  consumerSecret: 's'.repeat(32),
  accessToken: { key: 't'.repeat(32), secret: 'u'.repeat(32) },
};
const answer = (status: number, headers: Record<string, string> = {}): TransportResponse => ({ status, headers, body: Buffer.from('{}') });

/** A transport that answers from a script and calls `onRequest` after each request is taken. */
function scripted(steps: Array<TransportResponse | Error>, onRequest: () => void = () => {}) {
  const requests: TransportRequest[] = [];
  const transport: Transport = {
    async request(req) {
      requests.push(req);
      setImmediate(onRequest);
      const step = steps.shift();
      if (!step) throw new Error('no more scripted answers');
      if (step instanceof Error) throw step;
      return step;
    },
    close() {},
  };
  return { transport, requests };
}

test('a wait for Retry-After is released at once when the caller hangs up', async (t) => {
  const controller = new AbortController();
  const s = scripted([answer(503, { 'retry-after': '90' }), answer(200)], () => controller.abort());
  const client = createRestClient({ transport: s.transport, retry: policy });
  const started = Date.now();
  const err = await t.throwsAsync(client.send(store, { method: 'GET', path: 'V1/products', signal: controller.signal }), {
    instanceOf: RequestAbortedError,
  });
  t.is(err?.message, 'the request to shop.example.com:443 was cancelled');
  t.is(s.requests.length, 1, 'no retry after the hang-up');
  // Not a timing assertion on speed: only that the 90 s wait was not served (ava would time out long before).
  t.true(Date.now() - started < 60_000);
});

test('a backoff wait after a network error is released when the caller hangs up', async (t) => {
  const controller = new AbortController();
  const down = new UpstreamUnreachableError('shop.example.com', 443, 'connection refused', 'connect', false);
  const s = scripted([down, answer(200)], () => controller.abort());
  const client = createRestClient({ transport: s.transport, retry: { ...policy, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
  await t.throwsAsync(client.send(store, { method: 'GET', path: 'V1/products', signal: controller.signal }), {
    instanceOf: RequestAbortedError,
  });
  t.is(s.requests.length, 1);
});

test('an injected wait that never ends is still released by the hang-up', async (t) => {
  const controller = new AbortController();
  const s = scripted([answer(429, { 'retry-after': '5' })], () => controller.abort());
  const client = createRestClient({ transport: s.transport, retry: policy, wait: () => new Promise<void>(() => {}) });
  await t.throwsAsync(client.send(store, { method: 'GET', path: 'V1/products', signal: controller.signal }), {
    instanceOf: RequestAbortedError,
  });
});

const elevenGroups = {
  searchCriteria: { filter_groups: Array.from({ length: 11 }, (_, i) => ({ filters: [{ field: 'entity_id', value: String(i) }] })) },
};

test("the store's signing profile reaches the signer: 11 filter groups are sent on native, refused before sending when unknown", async (t) => {
  const s = scripted([answer(200)]);
  const client = createRestClient({ transport: s.transport, retry: policy });
  const res = await client.send({ ...store, profile: 'native' }, { method: 'GET', path: 'V1/products', query: elevenGroups });
  t.is(res.status, 200);
  t.true(s.requests[0]!.url.includes('searchCriteria[filter_groups][10][filters][0][field]=entity_id'));

  for (const profile of [null, undefined]) {
    const unknown = scripted([answer(200)]);
    const c = createRestClient({ transport: unknown.transport, retry: policy });
    const err = await t.throwsAsync(c.send({ ...store, profile }, { method: 'GET', path: 'V1/products', query: elevenGroups }), {
      instanceOf: SigningError,
    });
    t.is(err?.code, 'ambiguous_parameter_order');
    t.is(unknown.requests.length, 0);
  }
});

test('a path with %2F is sent on laminas-double-encoding and refused on laminas, naming the profile', async (t) => {
  const s = scripted([answer(200)]);
  const client = createRestClient({ transport: s.transport, retry: policy });
  await client.send({ ...store, profile: 'laminas-double-encoding' }, { method: 'GET', path: 'V1/products/24-MB01%2Fblue' });
  t.is(s.requests[0]!.url, 'https://shop.example.com/rest/V1/products/24-MB01%2Fblue');
  const err = await t.throwsAsync(client.send({ ...store, profile: 'laminas' }, { method: 'GET', path: 'V1/products/24-MB01%2Fblue' }), {
    instanceOf: SigningError,
  });
  t.is(err?.code, 'ambiguous_path');
  t.regex(err!.message, /signing profile, "laminas"/);
  t.is(s.requests.length, 1);
});

test('backoffDelayMs doubles from the base up to the cap, jittered between half and all of it', (t) => {
  const p = { baseDelayMs: 100, maxDelayMs: 1_000 };
  t.deepEqual([0, 1, 2, 3, 4, 10].map((n) => backoffDelayMs(n, p, () => 0)), [50, 100, 200, 400, 500, 500]);
  t.deepEqual([0, 1, 2, 3, 4].map((n) => backoffDelayMs(n, p, () => 0.999999)), [100, 200, 400, 800, 1_000]);
  t.is(backoffDelayMs(-1, p, () => 0.5), 75, 'a negative retry number is the first retry');
});
