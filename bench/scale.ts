// Scale: what a CRM with many merchants runs. For each backend, two databases seeded in the same run (bench/seed.ts):
// SCALE_SMALL bindings (100) and SCALE_BINDINGS (100,000 across SCALE_ACCOUNTS = 10,000 accounts), then for each:
//   - every background query (request-token due work, the probe scheduler's two queries, the webhook poll,
//     housekeeping, the metrics scrape's counts): time per run, rows returned, rows read (PostgreSQL: EXPLAIN
//     ANALYZE; SQLite has no per-statement row counter in this build) and the plan, flagged when it scans a table;
//   - a connector (`npm start`'s scripts/start.mjs, WORKERS=1 and 2) against it: idle resident memory, a burst of
//     SCALE_CALLBACKS callbacks from the mock store on the accounts' own URLs (SCALE_BURST_ACCOUNTS accounts, round
//     robin) and one on the shared URLs (latency p50/p99), and proxy throughput for stores chosen at random: cold
//     (every request a store not called before), warm (a small hot set, caches filled) and random over every store;
//   - at the large size, after a sweep over SCALE_SWEEP distinct stores (11,000: every per-store cache at its bound;
//     at most SCALE_SWEEP_SECONDS), the idle resident memory again (target < 200 MB: the caches are bounded).
// Each figure at the large size is compared with the same figure at the small size: target within 1.5x.
//   npm run bench -- scale        SCALE_BACKENDS=sqlite,postgresql (PostgreSQL: BENCH_POSTGRES_URL or TEST_POSTGRES_URL)
//   SCALE_BINDINGS=2000 SCALE_ACCOUNTS=200 SCALE_SECONDS=2 npm run bench -- scale      (a quick smoke run)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountActivationToken } from '../src/activation/account-urls.js';
import { systemClock } from '../src/clock.js';
import { createMockStore } from '../src/mock-store/app.js';
import { parseSecretsKey, Sealer } from '../src/secrets/sealer.js';
import { migrate } from '../src/storage/db.js';
import { createPrismaStorage } from '../src/storage/prisma/index.js';
import type { Storage } from '../src/storage/types.js';
import { spawnServer } from '../scripts/spawn-instance.js';
import { startConnector, type Connector } from './connector.js';
import { openBenchDb, seedScale, type BenchDb, type LoggedQuery, type Seeded } from './seed.js';
import { ms, summary, verdict } from './stats.js';

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const LARGE = num('SCALE_BINDINGS', 100_000);
const ACCOUNTS = num('SCALE_ACCOUNTS', Math.max(1, Math.round(LARGE / 10)));
const SMALL = num('SCALE_SMALL', 100);
const SMALL_ACCOUNTS = Math.max(1, Math.round((SMALL * ACCOUNTS) / LARGE));
const CALLBACKS = num('SCALE_CALLBACKS', 200);
/** The accounts a callback burst is spread over (their own URLs), the same at both sizes. */
const BURST_ACCOUNTS = num('SCALE_BURST_ACCOUNTS', 10);
const SECONDS = num('SCALE_SECONDS', 4);
const CONCURRENCY = num('SCALE_CONCURRENCY', 32);
// Just past the 10,000 entries every per-store cache holds at most, within SCALE_SWEEP_SECONDS.
const SWEEP = num('SCALE_SWEEP', 11_000);
const SWEEP_SECONDS = num('SCALE_SWEEP_SECONDS', 60);
const SWEEP_IDLE_MS = 20_000;
const QUERY_RUNS = num('SCALE_QUERY_RUNS', 20);
const WORKERS = (process.env.SCALE_WORKERS ?? '1,2').split(',').map(Number);
const PROBE_INTERVAL_MS = 3600_000;
const RATIO = 1.5;
const RSS_TARGET_MB = 200;
const postgresUrl = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL;
const BACKENDS = (process.env.SCALE_BACKENDS ?? (postgresUrl ? 'sqlite,postgresql' : 'sqlite')).split(',') as ('sqlite' | 'postgresql')[];

// ---- databases ----------------------------------------------------------------------------------------------------

interface Database {
  url: string;
  drop(): Promise<void>;
}

async function freshDatabase(backend: 'sqlite' | 'postgresql', dir: string, name: string): Promise<Database> {
  if (backend === 'sqlite') {
    const url = `file:${join(dir, `${name}.db`)}`;
    await migrate(url);
    return { url, drop: async () => {} };
  }
  if (!postgresUrl) throw new Error('PostgreSQL: set BENCH_POSTGRES_URL or TEST_POSTGRES_URL');
  const database = `scale_${name}_${randomBytes(3).toString('hex')}`;
  const admin = await openBenchDb(postgresUrl);
  await admin.db.$executeRawUnsafe(`CREATE DATABASE "${database}"`);
  await admin.close();
  const url = new URL(postgresUrl);
  url.pathname = `/${database}`;
  await migrate(url.href);
  return {
    url: url.href,
    drop: async () => {
      const again = await openBenchDb(postgresUrl);
      await again.db.$executeRawUnsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => {});
      await again.close();
    },
  };
}

// ---- background queries ---------------------------------------------------------------------------------------------

interface QueryFigure {
  name: string;
  /** Median time per run. */
  ms: number;
  returned: number;
  /** Rows the database read (PostgreSQL's EXPLAIN ANALYZE); null on SQLite. */
  read: number | null;
  plans: { sql: string; plan: string[]; scans: string[] }[];
}

/** The queries an idle instance runs on its own, each called through the real repository. */
function backgroundQueries(storage: Storage, now: Date): { name: string; run: () => Promise<number> }[] {
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  return [
    { name: 'request-token due work (bindings.due, every second)', run: async () => (await storage.bindings.due(now, 50)).length },
    { name: 'probe scheduler: new stores (probes.scheduleNew, every second)', run: () => storage.probes.scheduleNew(now, PROBE_INTERVAL_MS, 100, random) },
    { name: 'probe scheduler: due probes (probes.due, every second)', run: async () => (await storage.probes.due(now, 10)).length },
    { name: 'webhook poll (webhooks.due, every poll)', run: async () => (await storage.webhooks.due(now, 50)).length },
    { name: 'housekeeping: sessions (every 5 min)', run: () => storage.sessions.deleteExpired(new Date(0)) },
    { name: 'housekeeping: sign-in throttles (every 5 min)', run: () => storage.throttles.deleteExpired(new Date(0), 60_000) },
    { name: 'housekeeping: password resets (every 5 min)', run: () => storage.passwordResets.deleteExpired(new Date(0)) },
    // Nothing is old enough at `now - 30 days`: the figure is the cost of finding that out (an index range, no scan).
    { name: 'housekeeping: webhook retention (every 5 min)', run: async () => { const r = await storage.webhooks.purgeFinished(new Date(now.getTime() - 30 * 86_400_000), 1000); return r.deliveries + r.events; } },
    { name: 'metrics scrape: bindings per state (probes.stateCounts)', run: async () => Object.keys(await storage.probes.stateCounts()).length },
    { name: 'metrics scrape: webhook backlog (webhooks.backlog)', run: async () => (await storage.webhooks.backlog()).pending },
  ];
}

const SKIP_SQL = /^\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SELECT 1\b|SAVEPOINT|RELEASE)/i;

interface PgNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PgNode[];
}

async function explain(bench: BenchDb, q: LoggedQuery): Promise<{ plan: string[]; scans: string[]; read: number | null }> {
  if (bench.provider === 'sqlite') {
    const rows = await bench.db.$queryRawUnsafe<{ detail: string }[]>(`EXPLAIN QUERY PLAN ${q.sql}`, ...q.params);
    const plan = rows.map((r) => r.detail);
    // "SCAN t" reads the whole table (or a whole index: "USING COVERING INDEX"); SEARCH uses an index's range.
    return { plan, scans: plan.filter((d) => /^SCAN /.test(d) && !/^SCAN CONSTANT/.test(d)), read: null };
  }
  // ANALYZE runs the statement: in a transaction rolled back, so a DELETE deletes nothing for the figures after it.
  const rollback = new Error('rollback');
  let json: { Plan: PgNode }[] = [];
  try {
    await bench.db.$transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<{ 'QUERY PLAN': unknown }[]>(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.sql}`, ...q.params);
      const value = rows[0]!['QUERY PLAN'];
      json = (typeof value === 'string' ? JSON.parse(value) : value) as { Plan: PgNode }[];
      throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  const plan: string[] = [];
  const scans: string[] = [];
  let read = 0;
  const walk = (node: PgNode, depth: number) => {
    const loops = node['Actual Loops'] ?? 1;
    const on = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
    const using = node['Index Name'] ? ` using ${node['Index Name']}` : '';
    const removed = (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0);
    plan.push(`${'  '.repeat(depth)}${node['Node Type']}${on}${using}  (rows ${node['Actual Rows']} x${loops}${removed ? `, removed by filter ${removed}` : ''})`);
    if (node['Relation Name'] || node['Index Name']) read += ((node['Actual Rows'] ?? 0) + removed) * loops;
    if (node['Node Type'] === 'Seq Scan') scans.push(`Seq Scan on ${node['Relation Name']}`);
    for (const child of node.Plans ?? []) walk(child, depth + 1);
  };
  walk(json[0]!.Plan, 0);
  return { plan, scans, read };
}

async function measureQueries(databaseUrl: string, sealer: Sealer, now: Date): Promise<QueryFigure[]> {
  const bench = await openBenchDb(databaseUrl, { logQueries: true });
  const storage = createPrismaStorage(bench.db, bench.provider, sealer);
  const figures: QueryFigure[] = [];
  try {
    for (const { name, run } of backgroundQueries(storage, now)) {
      await run(); // warm-up (and the statements' first preparation)
      bench.take();
      const times: number[] = [];
      let returned = 0;
      for (let i = 0; i < QUERY_RUNS; i++) {
        const t0 = performance.now();
        returned = await run();
        times.push(performance.now() - t0);
      }
      const statements = bench.take().filter((q) => !SKIP_SQL.test(q.sql));
      const seen = new Set<string>();
      const plans: QueryFigure['plans'] = [];
      let read: number | null = bench.provider === 'sqlite' ? null : 0;
      for (const q of statements) {
        if (seen.has(q.sql)) continue;
        seen.add(q.sql);
        const e = await explain(bench, q);
        plans.push({ sql: q.sql, plan: e.plan, scans: e.scans });
        if (read !== null && e.read !== null) read += e.read;
      }
      figures.push({ name, ms: summary(times).p50, returned, read, plans });
    }
  } finally {
    await bench.close();
  }
  return figures;
}

// ---- the connector -------------------------------------------------------------------------------------------------



/** A process's resident size now (`VmRSS`) or its peak since it started (`VmHWM`), in MiB. */
function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
    return Number(line!.split(/\s+/)[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** The largest `rssMb` among the connector's server processes (WORKERS > 1: one per worker). */
const largestRssMb = (connector: Connector, field?: 'VmRSS' | 'VmHWM') => Math.max(...connector.serverPids().map((pid) => rssMb(pid, field)));

const sleep = (msec: number) => new Promise((resolve) => setTimeout(resolve, msec));

// ---- load ------------------------------------------------------------------------------------------------------------

interface Target {
  path: string;
  key: string;
}

/** Closed loop: `concurrency` workers, each sends the next request (from `next`) when the previous one answered. */
async function drive(base: string, next: () => Target | undefined, o: { concurrency: number; seconds?: number }): Promise<{ rps: number; p50: number; p99: number; errors: number; requests: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = o.seconds === undefined ? Infinity : started + o.seconds * 1000;
  const one = (t: Target) =>
    new Promise<number>((resolve) => {
      const req = http.request(`${base}${t.path}`, { agent, headers: { authorization: `Bearer ${t.key}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end();
    });
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      for (;;) {
        if (performance.now() >= end) return;
        const t = next();
        if (!t) return;
        const t0 = performance.now();
        const status = await one(t);
        latencies.push(performance.now() - t0);
        if (status !== 200) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const s = summary(latencies);
  return { rps: latencies.length / elapsed, p50: s.p50, p99: s.p99, errors, requests: latencies.length };
}

const PATH = (id: string) => `/api/stores/${id}/rest/V1/products/24-MB01`;

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function targetsOf(seeded: Seeded): Target[] {
  return seeded.accounts.flatMap((a) => a.bindingIds.map((id) => ({ path: PATH(id), key: a.apiKey })));
}

interface RunFigures {
  idleRssMb: number;
  /** Callbacks on the accounts' own URLs. */
  callbackP50: number;
  callbackP99: number;
  callbackFailures: number;
  /** Callbacks on the shared URLs (open sign-up). */
  sharedP50: number;
  sharedP99: number;
  sharedFailures: number;
  /** Latency of a first request to a store (p50). */
  coldP50: number;
  cold: number;
  warm: number;
  random: number;
  errors: number;
}

/**
 * `n` activations at once from the mock store. `tokens`: the accounts' own activation URLs (the default path), used
 * round robin; without them the shared URLs (OPEN_SIGNUP_ACTIVATION).
 */
async function callbackBurst(connectorUrl: string, n: number, tokens?: readonly string[]): Promise<{ p50: number; p99: number; failures: number }> {
  const mock = createMockStore({ testMode: true, onError: () => {} });
  await mock.start(0);
  try {
    const integrations = Array.from({ length: n }, (_, i) => {
      const suffix = tokens ? `/${tokens[i % tokens.length]}` : '';
      return mock.admin.create({ name: `scale ${i}`, callbackUrl: `${connectorUrl}/magento/callback${suffix}`, identityLinkUrl: `${connectorUrl}/magento/identity${suffix}` });
    });
    const results = await Promise.all(
      integrations.map(async (integration) => {
        const t0 = performance.now();
        const result = await mock.admin.activate(integration.id);
        return { ms: performance.now() - t0, ok: result.callback?.ok === true };
      }),
    );
    const s = summary(results.map((r) => r.ms));
    await sleep(1_500); // let the request-token fetches run before the next figure
    return { p50: s.p50, p99: s.p99, failures: results.filter((r) => !r.ok).length };
  } finally {
    await mock.close();
  }
}

/** One connector on one seeded database: idle memory, proxy cold / warm / random, then a callback burst. */
async function measureConnector(connector: Connector, seeded: Seeded, tokens: readonly string[], coldCount: number, hotCount: number): Promise<RunFigures> {
  await sleep(3_000); // idle: background loops tick, nothing else
  const idleRssMb = largestRssMb(connector);
  const [first, ...all] = shuffled(targetsOf(seeded));
  // The code paths warmed on one store outside the sets below (JIT, the database connections).
  let n = 0;
  await drive(connector.url, () => (n++ < 40 ? first : undefined), { concurrency: 4 });
  // Cold: each request a store no request has touched (the same count at every size); its latency is the figure
  // (a short burst's throughput is mostly its ramp).
  const fresh = all.slice(0, coldCount);
  let i = 0;
  const cold = await drive(connector.url, () => fresh[i++], { concurrency: 8 });
  // Warm: a hot set of stores already called (caches hold them), chosen at random per request.
  const hot = all.slice(0, hotCount);
  const pickHot = () => hot[Math.floor(Math.random() * hot.length)]!;
  await drive(connector.url, pickHot, { concurrency: CONCURRENCY, seconds: 1 });
  const warm = await drive(connector.url, pickHot, { concurrency: CONCURRENCY, seconds: SECONDS });
  // Random over every active store: at 100,000 most requests miss every per-store cache.
  const pickAny = () => all[Math.floor(Math.random() * all.length)]!;
  const random = await drive(connector.url, pickAny, { concurrency: CONCURRENCY, seconds: SECONDS });
  // Last: the burst leaves request-token fetches and detections running in the background.
  const callbacks = await callbackBurst(connector.url, CALLBACKS, tokens);
  const shared = await callbackBurst(connector.url, CALLBACKS);
  return {
    idleRssMb,
    callbackP50: callbacks.p50,
    callbackP99: callbacks.p99,
    callbackFailures: callbacks.failures,
    sharedP50: shared.p50,
    sharedP99: shared.p99,
    sharedFailures: shared.failures,
    coldP50: cold.p50,
    cold: cold.rps,
    warm: warm.rps,
    random: random.rps,
    errors: cold.errors + warm.errors + random.errors,
  };
}

/** Every store once (up to SCALE_SWEEP), then idle: the resident memory with every per-store cache at its fullest. */
async function sweepRss(connector: Connector, seeded: Seeded): Promise<{ mb: number; laterMb: number; peakMb: number; stores: number; rps: number }> {
  const all = shuffled(targetsOf(seeded)).slice(0, SWEEP);
  let i = 0;
  const run = await drive(connector.url, () => all[i++], { concurrency: CONCURRENCY, seconds: SWEEP_SECONDS });
  await sleep(3_000);
  const mb = largestRssMb(connector);
  // The most any server process held at once since it started: the sweep is the largest load it serves.
  const peakMb = largestRssMb(connector, 'VmHWM');
  // Once the caches' entries are past their TTL (5 s) and the next purge (every 10 s) has dropped them.
  await sleep(SWEEP_IDLE_MS - 3_000);
  return { mb, laterMb: largestRssMb(connector), peakMb, stores: run.requests, rps: run.rps };
}

// ---- the run ---------------------------------------------------------------------------------------------------------

const ratioLine = (label: string, small: number, large: number, lowerIsBetter: boolean, unit: (v: number) => string, target: string | null = null) => {
  const ratio = lowerIsBetter ? large / small : small / large; // > 1: worse at the large size
  const met = Number.isFinite(ratio) && ratio <= RATIO;
  return `  ${label.padEnd(48)} ${unit(small).padStart(12)} @${SMALL}  ${unit(large).padStart(12)} @${LARGE}   x${ratio.toFixed(2)} worse   (${target ?? `target <= ${RATIO}x: ${verdict(met)}`})`;
};
const rps = (v: number) => `${v.toFixed(0)} req/s`;

async function runBackend(backend: 'sqlite' | 'postgresql', upstreamUrl: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `bench-scale-${backend}-`));
  const secretsKey = `s1:${randomBytes(32).toString('base64')}`;
  const sealer = new Sealer(parseSecretsKey(secretsKey));
  const sizes = [
    { bindings: SMALL, accounts: SMALL_ACCOUNTS },
    { bindings: LARGE, accounts: ACCOUNTS },
  ];
  const queries: QueryFigure[][] = [];
  const runs: Record<number, RunFigures[]> = {};
  let sweep: { mb: number; laterMb: number; peakMb: number; stores: number; rps: number } | undefined;
  const databases: Database[] = [];
  const seededAll: Seeded[] = [];
  const tokensAll: string[][] = [];
  try {
    for (const [index, size] of sizes.entries()) {
      const database = await freshDatabase(backend, dir, index === 0 ? 'small' : 'large');
      databases.push(database);
      const now = new Date();
      const bench = await openBenchDb(database.url);
      const seeded = await seedScale(bench.db, { bindings: size.bindings, accounts: size.accounts, storeBaseUrl: upstreamUrl, sealer, now, probeIntervalMs: PROBE_INTERVAL_MS });
      seededAll.push(seeded);
      // The burst's accounts: the same number at both sizes; their own activation tokens, made as the account page does.
      const storage = createPrismaStorage(bench.db, bench.provider, sealer);
      tokensAll.push(await Promise.all(seeded.accounts.slice(0, BURST_ACCOUNTS).map((a) => accountActivationToken({ storage, clock: systemClock }, a.id))));
      await bench.close();
      console.log(`  seeded ${size.bindings.toLocaleString('en-US')} bindings over ${size.accounts.toLocaleString('en-US')} accounts in ${(seeded.ms / 1000).toFixed(1)} s`);
      queries.push(await measureQueries(database.url, sealer, now));
    }
    // The same number of cold requests and the same hot set at both sizes (bounded by the small size's stores).
    const activeSmall = seededAll[0]!.accounts.reduce((n, a) => n + a.bindingIds.length, 0);
    const coldCount = Math.min(80, activeSmall - 1);
    const hotCount = Math.min(50, activeSmall - 1);
    for (const workers of WORKERS) {
      runs[workers] = [];
      for (const [index, database] of databases.entries()) {
        const connector = await startConnector(
          { DATABASE_URL: database.url, SECRETS_KEY: secretsKey, ALLOW_PRIVATE_STORE_URLS: 'true', OPEN_SIGNUP_ACTIVATION: 'true', CALLBACK_RATE_PER_ADDRESS: '1000000',
            // Every burst lands on BURST_ACCOUNTS accounts: their checks run, their limits are not what is measured.
            CALLBACK_RATE_PER_ACCOUNT: '1000000', PENDING_BINDINGS_PER_ACCOUNT: '1000000', MAX_STORES_PER_ACCOUNT: '1000000', DATA_DIR: dir, PUBLIC_URL: 'http://127.0.0.1' },
          workers,
          dir,
        );
        try {
          runs[workers]!.push(await measureConnector(connector, seededAll[index]!, tokensAll[index]!, coldCount, hotCount));
          if (workers === WORKERS[0] && index === 1) sweep = await sweepRss(connector, seededAll[index]!);
        } finally {
          await connector.stop();
        }
      }
    }
  } finally {
    for (const d of databases) await d.drop();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`\nscale on ${backend}: ${SMALL} vs ${LARGE.toLocaleString('en-US')} bindings (same run)`);
  console.log(`background queries (median of ${QUERY_RUNS} runs each; rows read from EXPLAIN ANALYZE on PostgreSQL):`);
  const [small, large] = queries as [QueryFigure[], QueryFigure[]];
  for (const [i, q] of small.entries()) {
    const l = large[i]!;
    const ratio = l.ms / q.ms;
    const readRatio = q.read !== null && l.read !== null ? (l.read + 1) / (q.read + 1) : null;
    const scans = [...new Set(l.plans.flatMap((p) => p.scans))];
    const met = ratio <= RATIO && (readRatio === null || readRatio <= RATIO);
    console.log(
      `  ${q.name}\n    ${ms(q.ms)} @${SMALL} -> ${ms(l.ms)} @${LARGE}  x${ratio.toFixed(2)}; rows returned ${q.returned} -> ${l.returned}; ` +
        `rows read ${q.read ?? 'n/a'} -> ${l.read ?? 'n/a'}   (target <= ${RATIO}x: ${verdict(met)})${scans.length ? `   SCANS: ${scans.join(', ')}` : ''}`,
    );
  }
  console.log(`query plans at ${LARGE.toLocaleString('en-US')} bindings (${backend === 'sqlite' ? 'EXPLAIN QUERY PLAN' : 'EXPLAIN ANALYZE'}):`);
  for (const q of large) {
    for (const p of q.plans) {
      console.log(`  -- ${q.name}${p.scans.length ? '   <-- SCANS' : ''}\n     ${p.sql.replace(/\s+/g, ' ').slice(0, 400)}`);
      for (const line of p.plan) console.log(`       ${line}`);
    }
  }
  for (const workers of WORKERS) {
    const [s, l] = runs[workers] as [RunFigures, RunFigures];
    console.log(
      `connector, WORKERS=${workers} (concurrency ${CONCURRENCY}, ${SECONDS} s per figure; errors ${s.errors} @${SMALL}, ${l.errors} @${LARGE}; ` +
        `failed callbacks ${s.callbackFailures + s.sharedFailures}, ${l.callbackFailures + l.sharedFailures}):`,
    );
    console.log(ratioLine(`callback p50, account URLs (burst of ${CALLBACKS})`, s.callbackP50, l.callbackP50, true, ms));
    console.log(ratioLine(`callback p99, account URLs (burst of ${CALLBACKS})`, s.callbackP99, l.callbackP99, true, ms));
    console.log(ratioLine(`callback p50, shared URLs (burst of ${CALLBACKS})`, s.sharedP50, l.sharedP50, true, ms));
    console.log(ratioLine(`callback p99, shared URLs (burst of ${CALLBACKS})`, s.sharedP99, l.sharedP99, true, ms));
    console.log(ratioLine(`proxy, cold: first call to a store, p50`, s.coldP50, l.coldP50, true, ms));
    console.log(ratioLine('proxy, cold: the same calls, throughput', s.cold, l.cold, false, rps, 'no target: a burst this short is mostly its ramp'));
    console.log(ratioLine('proxy, warm (a hot set of stores)', s.warm, l.warm, false, rps));
    console.log(ratioLine('proxy, a store at random among all', s.random, l.random, false, rps, 'no target: at the large size nearly every request is cold, compare with the cold figure'));
    console.log(ratioLine('idle RSS after start (largest server process)', s.idleRssMb, l.idleRssMb, true, (v) => `${v.toFixed(0)} MB`));
  }
  if (sweep) {
    console.log(
      `  idle RSS after calling ${sweep.stores.toLocaleString('en-US')} distinct stores (${sweep.rps.toFixed(0)} req/s), WORKERS=${WORKERS[0]}: ` +
        `${sweep.mb.toFixed(0)} MB   (target < ${RSS_TARGET_MB} MB: ${verdict(sweep.mb < RSS_TARGET_MB)})`,
    );
    console.log(`  the same after ${SWEEP_IDLE_MS / 1000} s idle (stale cache entries dropped): ${sweep.laterMb.toFixed(0)} MB; the peak, the sweep included (VmHWM): ${sweep.peakMb.toFixed(0)} MB (shown, not judged)`);
  }
}

export async function scaleBench(): Promise<void> {
  const started = performance.now();
  const upstream = await spawnServer('bench/upstream.ts');
  try {
    // The seeded credentials are unknown to the mock store: it answers without checking signatures (as in `proxy`).
    await fetch(new URL('/__mock/signatures', upstream.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ check: false }) });
    console.log(`scale: ${SMALL} and ${LARGE.toLocaleString('en-US')} bindings, backends ${BACKENDS.join(', ')}, WORKERS ${WORKERS.join(', ')}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    for (const backend of BACKENDS) await runBackend(backend, upstream.url);
  } finally {
    await upstream.stop();
  }
  console.log(`\nscale: done in ${((performance.now() - started) / 1000).toFixed(0)} s; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await scaleBench();
}
