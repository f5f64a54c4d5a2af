// Issue 13, proxy memory: six bindings of one account to a store that sends 19 MiB and then stalls took the process
// from 307 to 1,080 MiB. Now the account's calls in flight are bounded (429 account_busy), the instance's too (503
// connector_busy), and so are the response bytes they hold while receiving, per account and in all; /healthz is
// answered meanwhile. The rss growth is measured and logged (t.log), never asserted: it depends on the machine.
import http from 'node:http';
import test, { type ExecutionContext } from 'ava';
import { connectStore, startCapturingMockStore, type CapturingMockStore, type ConnectedStore } from '../helpers/activated.js';
import { startConnector, waitFor, type Connector } from '../helpers/connector.js';

const MIB = 1024 * 1024;
const STALL = 19 * MIB;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

interface Pending {
  abort(): void;
  /** Settles when the connector answers (a stalled call answers only after its caller hangs up: never). */
  done: Promise<Answer | null>;
  settled: Answer | null | undefined;
}

/** A proxied GET that may stall: its answer (null once aborted) and a way to hang up. */
function call(store: ConnectedStore, path = 'V1/products/24-MB01'): Pending {
  const controller = new AbortController();
  const pending: Pending = {
    abort: () => controller.abort(),
    settled: undefined,
    done: fetch(`${store.restUrl}${path}`, { headers: { authorization: `Bearer ${store.apiKey}` }, signal: controller.signal }).then(
      async (res) => ({ status: res.status, headers: res.headers, text: await res.text().catch(() => '') }),
      () => null,
    ),
  };
  void pending.done.then((res) => (pending.settled = res));
  return pending;
}

function stallAll(mock: CapturingMockStore, bodyBytes = STALL, kind: 'stall' | 'large' = 'stall'): void {
  mock.knobs.clearFaults();
  mock.knobs.addFault({ kind, pathPrefix: '/rest/', count: 1_000, bodyBytes });
}

const rssMiB = (): number => Math.round(process.memoryUsage().rss / MIB);

async function healthz(t: ExecutionContext, connector: Connector): Promise<void> {
  const res = await fetch(`${connector.url}/healthz`);
  t.is(res.status, 200, '/healthz is answered while calls stall');
}

async function refusedWith(t: ExecutionContext, res: Answer | null | undefined, status: number, code: string): Promise<string> {
  t.truthy(res, 'answered');
  t.is(res!.status, status);
  t.is(res!.headers.get('x-connector-error'), code);
  t.truthy(res!.headers.get('retry-after'), 'Retry-After says when to try again');
  return res!.headers.get('x-connector-error')!;
}

async function bodyOf(res: Answer): Promise<{ error: { code: string; message: string } }> {
  return JSON.parse(res.text) as { error: { code: string; message: string } };
}

test('calls in flight: the account bound refuses the extra calls of six bindings with 429, the instance bound with 503', async (t) => {
  const mock = await startCapturingMockStore(t);
  // Stalled calls last until their callers hang up (a long total timeout), so the counts below do not depend on timing.
  const connector = await startConnector('sqlite', t, { limits: { callsPerAccount: 4, callsInFlight: 5, totalTimeoutMs: 120_000, responseBufferBytesPerAccount: 100 * MIB } });
  const first = await connectStore(connector, mock);
  const bindings = [first];
  for (let i = 1; i < 6; i++) bindings.push(await connectStore(connector, mock, { email: first.email, password: first.password, form: 'login', name: `CRM ${i}` }));
  t.true(bindings.every((b) => b.accountId === first.accountId), 'six bindings of one account');
  const otherMock = await startCapturingMockStore(t);
  const other = await connectStore(connector, otherMock);
  t.not(other.accountId, first.accountId);

  const { callLimits } = connector.running.services.stores;
  stallAll(mock);
  const before = rssMiB();
  const calls = Array.from({ length: 8 }, (_, i) => call(bindings[i % bindings.length]!));
  await waitFor('four calls admitted and four refused', () => calls.filter((c) => c.settled !== undefined).length === 4 && callLimits.inFlight(first.accountId) === 4);
  const refused = calls.filter((c) => c.settled !== undefined);
  for (const c of refused) {
    await refusedWith(t, c.settled, 429, 'account_busy');
    t.regex((await bodyOf(c.settled!)).error.message, /4 calls to its stores in flight/);
  }
  t.is(refused[0]!.settled!.headers.get('retry-after'), '1');
  await waitFor('the stalled calls to receive their 19 MiB', () => callLimits.bufferedBytes(first.accountId) === 4 * STALL);
  t.log(`rss ${before} MiB -> ${rssMiB()} MiB with 4 calls holding 19 MiB each (8 sent over 6 bindings)`);
  await healthz(t, connector);

  // Another account is served while the first is at its bound: the instance has room for one more call.
  const served = await fetch(`${other.restUrl}V1/products/24-MB01`, { headers: { authorization: `Bearer ${other.apiKey}` } });
  t.is(served.status, 200);

  // The instance's bound: with 5 in flight in all, the other account's second stalled call is refused with 503.
  stallAll(otherMock, 1024);
  const more = [call(other), call(other)];
  await waitFor('one more admitted, one refused', () => more.some((c) => c.settled !== undefined) && callLimits.inFlight() === 5);
  const busy = more.find((c) => c.settled !== undefined)!;
  await refusedWith(t, busy.settled, 503, 'connector_busy');
  t.regex((await bodyOf(busy.settled!)).error.message, /5 calls to stores in flight/);

  // Callers hanging up give every slot back; the account is served again.
  for (const c of [...calls, ...more]) c.abort();
  await waitFor('every slot given back', () => callLimits.inFlight() === 0);
  t.is(callLimits.bufferedBytes(first.accountId), 0);
  mock.knobs.clearFaults();
  const again = await fetch(`${first.restUrl}V1/products/24-MB01`, { headers: { authorization: `Bearer ${first.apiKey}` } });
  t.is(again.status, 200);
});

test('response bytes: past the account budget a stalled answer fails with 429; past the instance budget with 503', async (t) => {
  const mock = await startCapturingMockStore(t);
  const connector = await startConnector('sqlite', t, {
    limits: {
      totalTimeoutMs: 120_000,
      maxResponseBytes: 20 * MIB,
      responseBufferBytesPerAccount: 40 * MIB, // two stalled 19 MiB answers fit, not three
      responseBufferBytes: 50 * MIB, // ... and not a third of another account's
    },
  });
  const a = await connectStore(connector, mock);
  const b2 = await connectStore(connector, mock, { email: a.email, password: a.password, form: 'login', name: 'CRM 2' });
  const otherMock = await startCapturingMockStore(t);
  const other = await connectStore(connector, otherMock);
  const { callLimits } = connector.running.services.stores;

  stallAll(mock);
  const before = rssMiB();
  const calls = [call(a), call(b2), call(a)];
  // Exactly one fails: once its bytes are given back, the two others fit the 40 MiB.
  await waitFor('one answer refused, two holding 19 MiB each', () => calls.filter((c) => c.settled !== undefined).length === 1 && callLimits.bufferedBytes(a.accountId) === 2 * STALL);
  const refused = calls.find((c) => c.settled !== undefined)!;
  await refusedWith(t, refused.settled, 429, 'account_busy');
  t.regex((await bodyOf(refused.settled!)).error.message, /MAX_RESPONSE_BUFFER_MB_PER_ACCOUNT/);
  t.log(`rss ${before} MiB -> ${rssMiB()} MiB with two answers of 19 MiB held and a third refused`);
  await healthz(t, connector);

  // Another account's stalled answer would take the instance past 50 MiB.
  stallAll(otherMock);
  const third = call(other);
  await waitFor('the other account refused', () => third.settled !== undefined);
  await refusedWith(t, third.settled, 503, 'connector_busy');
  t.regex((await bodyOf(third.settled!)).error.message, /MAX_RESPONSE_BUFFER_MB\)/);
  t.is(callLimits.bufferedBytes(other.accountId), 0, 'the refused answer gave its bytes back');

  for (const c of calls) c.abort();
  await waitFor('every slot given back', () => callLimits.inFlight() === 0);
  otherMock.knobs.clearFaults();
  const served = await fetch(`${other.restUrl}V1/products/24-MB01`, { headers: { authorization: `Bearer ${other.apiKey}` } });
  t.is(served.status, 200, 'served again once the bytes are given back');
});

/** A proxied GET whose caller reads nothing of the answer until `resume()`: the connector is left writing it. */
function slowReader(store: ConnectedStore): { status: Promise<number>; resume(): Promise<number> } {
  let response: http.IncomingMessage | undefined;
  const status = new Promise<number>((resolve, reject) => {
    const req = http.get(`${store.restUrl}V1/products/24-MB01`, { headers: { authorization: `Bearer ${store.apiKey}` } }, (res) => {
      res.pause();
      response = res;
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  return {
    status,
    async resume() {
      await status;
      let bytes = 0;
      for await (const chunk of response! as AsyncIterable<Buffer>) bytes += chunk.length;
      return bytes;
    },
  };
}

test('an answer being written to a caller that reads slowly keeps its slot and its bytes counted', async (t) => {
  const mock = await startCapturingMockStore(t);
  const connector = await startConnector('sqlite', t, {
    limits: { callsPerAccount: 8, maxResponseBytes: 20 * MIB, responseBufferBytesPerAccount: 40 * MIB },
  });
  const a = await connectStore(connector, mock);
  const { callLimits } = connector.running.services.stores;
  stallAll(mock, STALL, 'large');

  // Two answers of 19 MiB, received whole, sit in the connector while their callers do not read them.
  const readers = [slowReader(a), slowReader(a)];
  t.deepEqual(await Promise.all(readers.map((r) => r.status)), [200, 200]);
  await waitFor('both answers held', () => callLimits.bufferedBytes(a.accountId) === 2 * (STALL));
  t.is(callLimits.inFlight(a.accountId), 2, 'their calls keep their slots');

  // A third would take the account past its 40 MiB while they are held.
  const third = await fetch(`${a.restUrl}V1/products/24-MB01`, { headers: { authorization: `Bearer ${a.apiKey}` } });
  t.is(third.status, 429);
  t.is(third.headers.get('x-connector-error'), 'account_busy');
  await healthz(t, connector);

  // Once the callers read, everything is given back, and the account is served in full again.
  t.deepEqual(await Promise.all(readers.map((r) => r.resume())), [STALL, STALL]);
  await waitFor('slots and bytes given back', () => callLimits.inFlight() === 0 && callLimits.bufferedBytes(a.accountId) === 0);
  const again = await fetch(`${a.restUrl}V1/products/24-MB01`, { headers: { authorization: `Bearer ${a.apiKey}` } });
  t.is(again.status, 200);
  t.is((await again.arrayBuffer()).byteLength, STALL);
});

test("the review's scenario with the default bounds: six bindings, 48 calls to a store that sends 19 MiB and stalls", async (t) => {
  const mock = await startCapturingMockStore(t);
  const connector = await startConnector('sqlite', t, { limits: { totalTimeoutMs: 120_000 } });
  const first = await connectStore(connector, mock);
  const bindings = [first];
  for (let i = 1; i < 6; i++) bindings.push(await connectStore(connector, mock, { email: first.email, password: first.password, form: 'login', name: `CRM ${i}` }));
  const { callLimits } = connector.running.services.stores;
  const { limits } = connector.config;
  stallAll(mock);

  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  t.teardown(() => clearInterval(sampler));
  // 8 per binding: each store's own cap.
  const calls = bindings.flatMap((b) => Array.from({ length: limits.perStoreConcurrency }, () => call(b)));
  // At most three whole answers of 19 MiB fit the account's 64 MiB; every other call fails as its bytes arrive.
  const held = Math.floor(limits.responseBufferBytesPerAccount / STALL);
  await waitFor('every call but the held ones answered', () => {
    const settled = calls.filter((c) => c.settled !== undefined).length;
    return settled >= calls.length - held && callLimits.bufferedBytes(first.accountId) === (calls.length - settled) * STALL;
  }, 90_000);
  await healthz(t, connector);
  clearInterval(sampler);
  const settled = calls.filter((c) => c.settled !== undefined);
  for (const c of settled) t.is(c.settled?.headers.get('x-connector-error'), 'account_busy');
  t.log(
    `${calls.length} calls, ${settled.length} refused with 429, ${calls.length - settled.length} holding 19 MiB; ` +
      `rss ${Math.round(before / MIB)} MiB -> peak ${Math.round(peak / MIB)} MiB (+${Math.round((peak - before) / MIB)} MiB, mock store and test included)`,
  );
  for (const c of calls) c.abort();
  await waitFor('every slot given back', () => callLimits.inFlight() === 0);
});
