// Webhook delivery: N events (10,000 by default) over 100 stores, written to the outbox the way transitions write
// them, delivered by a connector (its own process, SQLite or BENCH_DATABASE_URL) to a local receiver that fails 20%
// of requests at random. Prints delivered/s, latency from event creation to its (first successful) delivery, and
// checks that every event arrived exactly once (one 2xx per event id) and in per-store order.
//   npm run bench -- webhooks [N]
// The receiver runs in a process of its own (bench/webhook-receiver.ts), as a CRM's does: in this process the 10
// writers' SQLite lock waits block the event loop for seconds, and a receiver stalled past the connector's 10 s
// timeout gets the delivery again (at least once). BENCH_WEBHOOK_RECEIVER=inprocess puts it here, as before.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from '../scripts/spawn-instance.js';
import { parseSecretsKey, Sealer } from '../src/secrets/sealer.js';
import { openStorage } from '../src/storage/db.js';
import { DEFAULT_WEBHOOK_CONFIG } from '../src/webhooks/config.js';
import { Webhooks } from '../src/webhooks/webhooks.js';
import { systemClock } from '../src/clock.js';
import { ms, summary } from './stats.js';
import { createReceiver, type ReceiverReport } from './webhook-receiver.js';

const STORES = 100;
const FAILURE_RATE = 0.2;
const WRITERS = 10;

export async function webhookBench(n = 10_000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-webhooks-'));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `file:${join(dir, 'connector.db')}`;
  const secretsKey = `b1:${randomBytes(32).toString('base64')}`;
  // Production defaults, except: the receiver is on 127.0.0.1, and retries come after 100 ms-1 s instead of
  // 10 s-1 h (the benchmark would otherwise measure the backoff), polling every 50 ms.
  const webhooks = { ...DEFAULT_WEBHOOK_CONFIG, allowPrivateUrls: true, retryBaseDelayMs: 100, retryMaxDelayMs: 1_000, pollIntervalMs: 50 };

  const inProcess = process.env.BENCH_WEBHOOK_RECEIVER === 'inprocess';
  // In this process, the receiver's own record; from its process, filled from its report at the end.
  const { server: receiver, report: r } = createReceiver(FAILURE_RATE);
  const { delivered, order, latencies } = r;
  let url: string;
  let child: ReturnType<typeof spawn> | undefined;
  let ask: (command: string, prefix: string) => Promise<string> = async () => '';
  if (inProcess) {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  } else {
    child = spawn(process.execPath, ['--import', 'tsx', new URL('./webhook-receiver.ts', import.meta.url).pathname], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, FAILURE_RATE: String(FAILURE_RATE) },
    });
    const lines = createInterface({ input: child.stdout! });
    const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
    lines.on('line', (line) => {
      const i = waiting.findIndex((w) => line.startsWith(w.prefix));
      if (i >= 0) waiting.splice(i, 1)[0]!.resolve(line);
    });
    ask = (command, prefix) =>
      new Promise<string>((resolve) => {
        waiting.push({ prefix, resolve });
        if (command) child!.stdin!.write(`${command}\n`);
      });
    url = `http://127.0.0.1:${Number((await ask('', 'port ')).slice(5))}/hooks`;
  }

  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}/webhooks`] : [];
  const connector = await spawnServer(
    'scripts/instance.mjs',
    { DATABASE_URL: databaseUrl, DATA_DIR: dir, SECRETS_KEY: secretsKey, INSTANCE_WEBHOOKS: JSON.stringify(webhooks) },
    [],
    profile,
  );
  const storage = await openStorage({ databaseUrl, sealer: new Sealer(parseSecretsKey(secretsKey)), poolSize: WRITERS });
  try {
    await new Webhooks({ storage, clock: systemClock, config: { allowPrivateUrls: true } }).create({ url });
    const stores = Array.from({ length: STORES }, () => randomUUID());
    const written = new Map<string, string[]>();
    const started = Date.now();
    // Writers each own a tenth of the stores: one store's events are written one after another, as its
    // transitions are (they are serialised by the binding's conditional update).
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = w; i < n; i += WRITERS) {
          const storeId = stores[(Math.floor(i / WRITERS) * WRITERS + w) % STORES]!;
          const e = await storage.webhooks.appendEvent({
            type: 'store.reauthorized',
            storeId,
            accountId: null,
            data: { store: { id: storeId, state: 'active' }, account: { id: null, externalId: null } },
            createdAt: new Date(),
          });
          const list = written.get(storeId) ?? [];
          list.push(e.id);
          written.set(storeId, list);
        }
      }),
    );
    const writtenAfter = Date.now() - started;
    const deadline = Date.now() + 600_000;
    const count = async () => (inProcess ? delivered.size : Number((await ask('count', 'count ')).slice(6)));
    while ((await count()) < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, inProcess ? 100 : 1_000));
    if (!inProcess) {
      // Let late retries arrive too (a duplicate is sent after its first copy was counted), then read the report.
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      const report = JSON.parse(await ask('report', '{')) as Omit<ReceiverReport, 'delivered' | 'order'> & { delivered: [string, number][]; order: [string, string[]][] };
      for (const [id, c] of report.delivered) delivered.set(id, c);
      for (const [store, ids] of report.order) order.set(store, ids);
      latencies.push(...report.latencies);
      Object.assign(r, { requests: report.requests, failed: report.failed, lastAt: report.lastAt, senderGone: report.senderGone });
    }
    const elapsed = (r.lastAt || Date.now()) - started;

    const duplicates = [...delivered.values()].filter((c) => c > 1).length;
    let outOfOrder = 0;
    for (const [store, ids] of written) {
      const got = order.get(store) ?? [];
      if (got.join() !== ids.slice(0, got.length).join()) outOfOrder++;
    }
    const s = summary(latencies);
    console.log(`webhooks: ${n} events over ${STORES} stores, receiver failing ${FAILURE_RATE * 100}% at random (connector on ${databaseUrl.startsWith('file:') ? 'SQLite' : 'PostgreSQL'}, receiver ${inProcess ? "in the writers' process" : 'in its own process'})`);
    console.log(`  written in ${(writtenAfter / 1000).toFixed(1)} s (${Math.round(n / (writtenAfter / 1000))} events/s, ${WRITERS} writers)`);
    console.log(`  delivered ${delivered.size}/${n} in ${(elapsed / 1000).toFixed(1)} s: ${Math.round(delivered.size / (elapsed / 1000))} delivered/s; ${r.requests} requests, ${r.failed} failed on purpose`);
    console.log(`  creation -> delivery   p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`);
    console.log(`  exactly once: ${duplicates === 0 && delivered.size === n ? 'yes' : 'NO'} (${duplicates} delivered more than once, ${n - delivered.size} missing${inProcess ? '' : `; ${r.senderGone} answers written after the connector had hung up`})`);
    console.log(`  per-store order: ${outOfOrder === 0 ? 'yes' : `NO (${outOfOrder} stores out of order)`}`);
  } finally {
    await storage.close();
    await connector.stop();
    if (inProcess) await new Promise<void>((resolve) => receiver.close(() => resolve()));
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await webhookBench(Number(process.argv[2] ?? 10_000));
}
