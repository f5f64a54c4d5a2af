// A delivery whose receiver answered in time is not timed out by a stall of our own event loop (better-sqlite3
// waiting synchronously for another process's write lock does exactly this): the total timeout counts only time the
// process could run, and an answer already received wins over an expired deadline. The receiver runs in its own
// process, so it answers while this one is stalled; the stall is a real synchronous wait (Atomics.wait).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import test from 'ava';
import { OffsetClock } from '../../src/clock.js';
import { freshStorage } from '../helpers/db.js';
import { storeEvent, webhooks, worker } from './helpers.js';

/** A receiver process: prints "request" when one arrives, answers 204 `delayMs` later. */
async function childReceiver(delayMs: number) {
  const script = `
    const http = require('node:http');
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => { console.log('request'); setTimeout(() => res.writeHead(204).end(), ${delayMs}); });
    });
    server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const listeners = new Set<(line: string) => void>();
  lines.on('line', (line) => listeners.forEach((l) => l(line)));
  const next = (prefix: string) =>
    new Promise<string>((resolve) => {
      const l = (line: string) => {
        if (!line.startsWith(prefix)) return;
        listeners.delete(l);
        resolve(line);
      };
      listeners.add(l);
    });
  const port = Number((await next('port ')).slice(5));
  return { url: `http://127.0.0.1:${port}/hooks`, next, stop: () => child.kill() };
}

function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('an answer that arrives while our event loop is stalled past the timeout still delivers (no duplicate)', async (t) => {
  const { storage } = await freshStorage('sqlite', t);
  const clock = new OffsetClock();
  const receiver = await childReceiver(200);
  t.teardown(receiver.stop);
  await webhooks(storage, clock).create({ url: receiver.url });
  const event = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.connected', clock));
  const w = worker(storage, clock, { totalTimeoutMs: 500, connectTimeoutMs: 2_000, claimMs: 5_000 }, t);
  const [key] = await storage.webhooks.due(clock.now(), 10);
  const attempt = w.attempt(key!);
  await receiver.next('request');
  // Stalled for three times the timeout; the receiver answers 200 ms in, while we cannot run.
  stall(1_500);
  t.is(await attempt, 'delivered', 'the answer that was already there counts');
  const delivery = await storage.webhooks.delivery({ eventId: event.id, subscriptionId: key!.subscriptionId });
  t.like(delivery, { status: 'delivered', attempts: 1, lastStatus: 204 });
});

test('a receiver that does not answer still times out after the total timeout of running time', async (t) => {
  const { storage } = await freshStorage('sqlite', t);
  const clock = new OffsetClock();
  const receiver = await childReceiver(60_000);
  t.teardown(receiver.stop);
  await webhooks(storage, clock).create({ url: receiver.url });
  await storage.webhooks.appendEvent(storeEvent('store-a', 'store.connected', clock));
  const w = worker(storage, clock, { totalTimeoutMs: 300, claimMs: 5_000 }, t);
  const [key] = await storage.webhooks.due(clock.now(), 10);
  t.is(await w.attempt(key!), 'retry');
  const delivery = await storage.webhooks.delivery(key!);
  t.regex(delivery!.lastError!, /^upstream_timeout: the receiver did not answer within 300 ms/);
});
