// Issue 13, the transport's side of the memory bound: response bytes count against the instance's budget (the
// transport's) and the caller's (an account's) as they arrive, decompressed; a response that would go past either
// fails with ResponseBudgetExceededError and its connection is closed; whatever was taken is given back however the
// response ends. Real HTTP servers on loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { createResponseBudget, createTransport, type TransportOptions } from '../../src/protocol/transport.js';
import { ResponseBudgetExceededError, ResponseTooLargeError, UpstreamUnreachableError } from '../../src/protocol/transport-errors.js';

const KIB = 1024;

interface Server {
  url: string;
  /** Connections closed by the client so far. */
  closed: number;
}

/** /stall/<n>: n KiB of a body promised one byte longer, then nothing; /full/<n>: n KiB; /gzip/<n>: n KiB gzipped. */
async function startServer(t: ExecutionContext): Promise<Server> {
  const state: Server = { url: '', closed: 0 };
  const server = http.createServer((req, res) => {
    const [, kind, size] = (req.url ?? '').split('/');
    const bytes = Number(size) * KIB;
    res.on('error', () => {});
    req.socket.once('close', () => state.closed++);
    if (kind === 'gzip') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end(gzipSync(Buffer.alloc(bytes, 0x20)));
    } else if (kind === 'full') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(bytes) });
      res.end(Buffer.alloc(bytes, 0x20));
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(bytes + 1) });
      res.write(Buffer.alloc(bytes, 0x20));
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return state;
}

function transportWith(t: ExecutionContext, options: Partial<TransportOptions>) {
  const tr = createTransport({ allowPrivate: true, connectTimeoutMs: 5_000, totalTimeoutMs: 60_000, maxResponseBytes: 1024 * KIB, ...options });
  t.teardown(() => tr.close());
  return tr;
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('the instance budget: a second stalled answer past it fails and is closed; bytes are given back however an answer ends', async (t) => {
  const server = await startServer(t);
  const budget = createResponseBudget(600 * KIB, 'instance');
  const tr = transportWith(t, { responseBudget: budget });

  // A complete answer takes its bytes while it is read and gives them back when it is handed over.
  const full = await tr.request({ method: 'GET', url: `${server.url}/full/500` });
  t.is(full.body.length, 500 * KIB);
  t.is(budget.used, 0);

  const hangUp = new AbortController();
  const first = tr.request({ method: 'GET', url: `${server.url}/stall/400`, signal: hangUp.signal });
  const firstOutcome = first.catch((err: unknown) => err);
  await until('the first answer to hold its 400 KiB', () => budget.used === 400 * KIB);
  const closedBefore = server.closed;
  const err = await t.throwsAsync(tr.request({ method: 'GET', url: `${server.url}/stall/400` }), { instanceOf: ResponseBudgetExceededError });
  t.is(err!.code, 'response_budget_exceeded');
  t.is(err!.scope, 'instance');
  t.regex(err!.message, /by this instance at once would hold more than 614400 bytes/);
  t.is(budget.used, 400 * KIB, 'the refused answer gave back what it had taken');
  await until('the refused connection to be closed', () => server.closed > closedBefore);

  hangUp.abort();
  t.is((await firstOutcome as Error).constructor.name, 'RequestAbortedError');
  t.is(budget.used, 0, 'a cancelled answer gives its bytes back');
});

test("the caller's budget (an account's) counts decompressed bytes too, beside the instance's", async (t) => {
  const server = await startServer(t);
  const instance = createResponseBudget(10_000 * KIB, 'instance');
  const account = createResponseBudget(300 * KIB, 'account');
  const tr = transportWith(t, { responseBudget: instance });

  const small = await tr.request({ method: 'GET', url: `${server.url}/gzip/200`, budget: account });
  t.is(small.body.length, 200 * KIB);
  // 500 KiB of spaces gzip to a few hundred bytes: the budget counts what they decompress to.
  const err = await t.throwsAsync(tr.request({ method: 'GET', url: `${server.url}/gzip/500`, budget: account }), { instanceOf: ResponseBudgetExceededError });
  t.is(err!.scope, 'account');
  t.regex(err!.message, /for this account's calls/);
  t.is(account.used, 0);
  t.is(instance.used, 0, 'what the instance budget had taken for the refused chunk is given back');

  // The per-response cap is still its own error, and a connection lost mid-body gives its bytes back.
  await t.throwsAsync(transportWith(t, { responseBudget: instance, maxResponseBytes: 100 * KIB }).request({ method: 'GET', url: `${server.url}/full/200`, budget: account }), {
    instanceOf: ResponseTooLargeError,
  });
  t.is(account.used, 0);
});

test('a connection lost mid-body: UpstreamUnreachableError (phase response), and the bytes are given back', async (t) => {
  const budget = createResponseBudget(10_000 * KIB, 'instance');
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Length': String(300 * KIB) });
    res.write(Buffer.alloc(100 * KIB, 0x20), () => setTimeout(() => res.socket?.destroy(), 50));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const tr = transportWith(t, { responseBudget: budget });
  const err = await t.throwsAsync(tr.request({ method: 'GET', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }), { instanceOf: UpstreamUnreachableError });
  t.is(err!.phase, 'response');
  t.is(budget.used, 0);
});
