// Revocation probes at scale: N active bindings (100,000 by default) seeded straight into the database, sealed as
// real ones are, then the probe scheduler (src/probes/prober.ts with the real StoreGateway and storage) run tick by
// tick on a simulated clock: first the due times of the new stores are spread over the interval, then minutes of
// steady state. Prints the scheduler's database cost per minute (queries, rows read, time), the spread of the
// scheduled times over the interval (no burst), probes per simulated minute, and the plan of every query the
// scheduler sends (each must use an index). SQLite always; PostgreSQL too when BENCH_POSTGRES_URL or TEST_POSTGRES_URL
// is set (a database of its own is created and dropped on that server).
//   npm run bench -- probes [N] [steady minutes]
//
// The storage is opened as the connector opens it (src/storage/db.ts): Prisma, plus the hot statements (HotSql) on
// the adapter's own connection; both are counted, timed and explained.
//
// The store's answer is made in-process (a 200 with a small body, as a granted V1/customerGroups/default answers):
// this measures the database work of probing, not the network.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import pino from 'pino';
import type { Clock } from '../src/clock.js';
import { RevocationProber } from '../src/probes/prober.js';
import type { RestClient } from '../src/protocol/rest-client.js';
import { parseSecretsKey, Sealer } from '../src/secrets/sealer.js';
import { captureAdapter, captureConnection, migrate } from '../src/storage/db.js';
import { PrismaClient as PostgresClient } from '../src/storage/generated/postgresql/client.js';
import { Prisma, PrismaClient as SqliteClient } from '../src/storage/generated/sqlite/client.js';
import { createPrismaStorage } from '../src/storage/prisma/index.js';
import { adapterSql, prismaSql, sqliteDriverSql, type HotSql, type SqlValue } from '../src/storage/prisma/hot-sql.js';
import type { Db } from '../src/storage/prisma/shared.js';
import { findDueProbes } from '../src/storage/prisma/probes.js';
import { StoreGateway } from '../src/store-api/gateway.js';
import { verdict } from './stats.js';

const INTERVAL_MS = 3600_000;
const TICK_MS = 1_000;
const SLICES = 12; // histogram of due times: 5-minute slices of the hour
const BATCH = 500; // rows per INSERT when seeding
const DEFAULT_RATE = 10; // PROBE_RATE_PER_SECOND's default

type Provider = 'sqlite' | 'postgresql';

interface QueryLog {
  count: number;
  ms: number;
  /** Distinct statements seen (for their plans), with the parameters of one run. */
  shapes: Map<string, string>;
  on: boolean;
}

/** A clock only the benchmark moves: one tick is one simulated second, however long the tick took. */
class SimulatedClock implements Clock {
  constructor(private at: number) {}
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

/**
 * The database as the connector opens it (src/storage/db.ts): Prisma, and the hot statements (HotSql) on the
 * adapter's own connection; both counted in `log`.
 */
async function openDb(provider: Provider, url: string, log: QueryLog): Promise<{ db: Db; sql: HotSql }> {
  const options = { log: [{ level: 'query' as const, emit: 'event' as const }], errorFormat: 'minimal' as const };
  let db: SqliteClient<'query'>;
  let sql: (fallback: HotSql) => HotSql;
  if (provider === 'sqlite') {
    const adapter = new PrismaBetterSQLite3({ url: url.replace(/^file:/, ''), timeout: 5_000 });
    const connection = captureConnection(adapter);
    db = new SqliteClient({ adapter, ...options });
    sql = (fallback) => sqliteDriverSql(connection, fallback);
  } else {
    const adapter = new PrismaPg({ connectionString: url, max: 4 });
    const connection = captureAdapter(adapter);
    db = new PostgresClient({ adapter, ...options }) as unknown as SqliteClient<'query'>;
    sql = (fallback) => adapterSql(connection, fallback);
  }
  db.$on('query', (e) => {
    if (!log.on) return;
    log.count++;
    log.ms += e.duration;
    if (!log.shapes.has(e.query)) log.shapes.set(e.query, e.params);
  });
  if (provider === 'sqlite') {
    await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
    await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
  }
  const prisma = db as unknown as Db;
  // The fallback goes through Prisma (its queries are logged there); a hot statement is logged here.
  return { db: prisma, sql: counted(sql(prismaSql(prisma)), provider, log) };
}

/** HotSql that adds each statement to `log` (count, time, the statement and one run's parameters for its plan). */
function counted(sql: HotSql, provider: Provider, log: QueryLog): HotSql {
  const text = (strings: TemplateStringsArray) => (provider === 'sqlite' ? strings.join('?') : strings.reduce((out, part, i) => `${out}$${i}${part}`));
  const param = (v: SqlValue) => (v instanceof Date ? (provider === 'sqlite' ? v.toISOString().replace('Z', '+00:00') : v.toISOString()) : typeof v === 'bigint' ? Number(v) : v);
  const timed = async <R>(strings: TemplateStringsArray, values: SqlValue[], run: () => Promise<R>): Promise<R> => {
    if (!log.on) return run();
    const started = performance.now();
    try {
      return await run();
    } finally {
      log.count++;
      log.ms += performance.now() - started;
      const q = text(strings);
      if (!log.shapes.has(q)) log.shapes.set(q, JSON.stringify(values.map(param)));
    }
  };
  return {
    rows: <T>(strings: TemplateStringsArray, ...values: SqlValue[]) => timed(strings, values, () => sql.rows<T>(strings, ...values)),
    run: (strings, ...values) => timed(strings, values, () => sql.run(strings, ...values)),
  };
}

/**
 * N active bindings, sealed like real ones (secrets from a pool of 1,000 sealed values, so seeding does not measure
 * AES), no due time yet (as right after activation), in batched inserts.
 */
async function seed(db: Db, sealer: Sealer, n: number, at: Date): Promise<number> {
  const started = Date.now();
  const pool = Array.from({ length: 1_000 }, () => sealer.seal(randomBytes(16).toString('hex')));
  const sealed = (i: number) => pool[i % pool.length]!;
  for (let from = 0; from < n; from += BATCH) {
    const rows: Prisma.Sql[] = [];
    for (let i = from; i < Math.min(n, from + BATCH); i++) {
      const id = randomUUID();
      rows.push(
        Prisma.sql`(${id}, ${`ck${randomBytes(16).toString('hex')}`}, ${`https://shop-${i}.example/`}, 'active', ${sealed(i)},
          ${at}, ${sealed(i + 1)}, ${sealed(i + 2)}, ${at}, 0, false, 0, ${at}, ${at})`,
      );
    }
    await db.$executeRaw`
      INSERT INTO "Binding" ("id", "consumerKey", "storeBaseUrl", "state", "consumerSecretSealed", "callbackAt",
        "accessTokenSealed", "accessTokenSecretSealed", "activatedAt", "stepAttempts", "accessOutcomeUnknown", "version", "createdAt", "updatedAt")
      VALUES ${Prisma.join(rows)}`;
  }
  return Date.now() - started;
}

/** Table rows read so far (PostgreSQL's statistics: sequential + index fetches of "Binding"); null on SQLite. */
async function rowsRead(db: Db, provider: Provider): Promise<number | null> {
  if (provider !== 'postgresql') return null;
  // The statistics collector reports with a delay: ask for a fresh snapshot.
  await db.$queryRawUnsafe('SELECT pg_stat_clear_snapshot()::text AS cleared');
  const [row] = await db.$queryRawUnsafe<{ n: bigint | number | null }[]>(
    `SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) AS n FROM pg_stat_user_tables WHERE relname = 'Binding'`,
  );
  return Number(row?.n ?? 0);
}

async function plans(db: Db, provider: Provider, shapes: Map<string, string>): Promise<{ lines: string[]; unindexed: number }> {
  const lines: string[] = [];
  let unindexed = 0;
  const shown = new Set<string>();
  for (const [sql, params] of shapes) {
    if (!/^\s*(SELECT|UPDATE|INSERT|DELETE|WITH)/i.test(sql)) continue;
    // Prisma's by-id reads differ only past the column list: one plan each.
    // (and Prisma batches concurrent reads by id into one IN (...) of any length)
    const head = sql.replace(/\s+/g, ' ').replace(/\$\d+/g, '$').replace(/IN \(\$(?:,\s*\$)*\)/g, 'IN (...)').replace(/IN \((?:\?|\$\d+)(?:,\s*(?:\?|\$\d+))*\)/g, 'IN (...)').replace(/^(.{60}).*(.{120})$/, '$1|$2');
    if (shown.has(head)) continue;
    shown.add(head);
    const args = JSON.parse(params) as unknown[];
    const rows =
      provider === 'sqlite'
        ? await db.$queryRawUnsafe<{ detail: string }[]>(`EXPLAIN QUERY PLAN ${sql}`, ...args)
        : await db.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${sql}`, ...args);
    const plan = rows.map((r) => ('detail' in r ? r.detail : r['QUERY PLAN']));
    // A full scan of Binding: SQLite "SCAN Binding" (without an index search), PostgreSQL "Seq Scan on Binding".
    const full = plan.some((p) => /^SCAN "?Binding"?(?! USING (COVERING )?INDEX)/.test(p.trim()) || /Seq Scan on "?Binding"?/.test(p));
    if (full) unindexed++;
    const flat = sql.replace(/\s+/g, ' ').trim();
    lines.push(`  ${full ? 'NO INDEX' : 'indexed '}  ${flat.length > 170 ? `${flat.slice(0, 60)} ... ${flat.slice(-105)}` : flat}`);
    for (const p of plan) lines.push(`              ${p}`);
  }
  return { lines, unindexed };
}

async function run(provider: Provider, url: string, n: number, steadyMinutes: number, cleanup: () => Promise<void>): Promise<void> {
  await migrate(url);
  const log: QueryLog = { count: 0, ms: 0, shapes: new Map(), on: false };
  const { db, sql } = await openDb(provider, url, log);
  const sealer = new Sealer(parseSecretsKey(`b1:${randomBytes(32).toString('base64')}`));
  const clock = new SimulatedClock(Date.UTC(2026, 11, 1, 12, 0, 0));
  const storage = createPrismaStorage(db, provider, sealer, clock, sql);
  try {
    const t0 = clock.now();
    const seedMs = await seed(db, sealer, n, t0);
    if (provider === 'postgresql') await db.$executeRawUnsafe('ANALYZE "Binding"'); // as autovacuum would after a bulk load
    console.log(`probes (${provider === 'sqlite' ? 'SQLite' : 'PostgreSQL'}): ${n.toLocaleString('en')} active bindings seeded in ${(seedMs / 1000).toFixed(1)} s`);

    // The rate one instance needs to probe every store once per interval, and what the default gives.
    const needed = n / (INTERVAL_MS / 1000);
    const rate = Math.max(DEFAULT_RATE, Math.ceil(needed * 1.1));
    const instancesAtDefault = Math.ceil(needed / DEFAULT_RATE);
    const answer = { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"id":1,"code":"General","tax_class_id":3}'), attempts: 1 };
    const rest: RestClient = { send: async () => answer };
    const logger = pino({ level: 'silent' });
    const gateway = new StoreGateway({
      bindings: storage.bindings,
      rest,
      clock,
      limits: { perStoreConcurrency: 8, perStoreQueue: 100, cacheTtlMs: 5_000, callsPerAccount: 64, callsInFlight: 1024, responseBufferBytesPerAccount: 64 * 1024 * 1024 },
      logger,
      probes: storage.probes,
    });
    const outcomes = new Map<string, number>();
    const probedAt: number[] = [];
    const prober = new RevocationProber({
      storage,
      gateway: { probe: async (id) => (probedAt.push(clock.now().getTime()), gateway.probe(id)) },
      clock,
      config: { intervalMs: INTERVAL_MS, ratePerSecond: rate, claimMs: 120_000, tickMs: TICK_MS },
      logger,
      onOutcome: (o) => outcomes.set(o, (outcomes.get(o) ?? 0) + 1),
    });

    // Phase 1: the stores are new to the scheduler; each tick gives up to 10 x budget of them a due time.
    const budget = Math.floor((rate * TICK_MS) / 1000);
    const firstTicks = Math.ceil(n / (budget * 10)) + 1;
    log.on = true;
    let started = Date.now();
    for (let i = 0; i < firstTicks; i++) {
      await prober.tick();
      clock.advance(TICK_MS);
    }
    const first = { queries: log.count, dbMs: log.ms, wallMs: Date.now() - started, ticks: firstTicks };
    log.on = false;
    const unscheduled = await db.binding.count({ where: { state: 'active', nextProbeAt: null } });

    // The spread: due times of every store over the interval after t0, in slices.
    const due = await db.binding.findMany({ select: { nextProbeAt: true } });
    const slices = new Array<number>(SLICES).fill(0);
    for (const { nextProbeAt } of due) {
      if (!nextProbeAt) continue;
      const offset = ((nextProbeAt.getTime() - t0.getTime()) % INTERVAL_MS + INTERVAL_MS) % INTERVAL_MS;
      slices[Math.min(SLICES - 1, Math.floor((offset / INTERVAL_MS) * SLICES))]!++;
    }
    const mean = n / SLICES;
    const burst = Math.max(...slices) / mean;

    // Phase 2: steady state, minute by minute.
    log.count = 0;
    log.ms = 0;
    log.shapes.clear();
    outcomes.clear();
    probedAt.length = 0;
    const rowsBefore = await rowsRead(db, provider);
    log.on = true;
    started = Date.now();
    const steadyStart = clock.now().getTime();
    for (let i = 0; i < steadyMinutes * 60; i++) {
      await prober.tick();
      clock.advance(TICK_MS);
    }
    const wallMs = Date.now() - started;
    log.on = false;
    const rowsAfter = await rowsRead(db, provider);
    const perMinute = (v: number) => v / steadyMinutes;
    const probes = [...outcomes.values()].reduce((a, b) => a + b, 0);
    const byMinute = new Array<number>(steadyMinutes).fill(0);
    for (const at of probedAt) byMinute[Math.min(steadyMinutes - 1, Math.floor((at - steadyStart) / 60_000))]!++;
    const overdue = await db.binding.count({ where: { state: 'active', nextProbeAt: { lte: new Date(clock.now().getTime() - 60_000) } } });

    const explained = await plans(db, provider, log.shapes);
    const dueSql = [...log.shapes.keys()].find((q) => /SELECT/i.test(q) && /nextProbeAt/.test(q) && /ORDER BY/i.test(q));

    console.log(`  rate: ${rate}/s per instance (${needed.toFixed(1)}/s needed to probe every store once per ${INTERVAL_MS / 1000} s)`);
    console.log(`  one instance at the default PROBE_RATE_PER_SECOND=${DEFAULT_RATE} covers ${(DEFAULT_RATE * INTERVAL_MS / 1000).toLocaleString('en')} stores per interval: ${verdict(DEFAULT_RATE >= needed)}${DEFAULT_RATE >= needed ? '' : ` (run ${instancesAtDefault} instances, or PROBE_RATE_PER_SECOND=${Math.ceil(needed)})`}`);
    console.log(`  first sight (${first.ticks} ticks): ${first.queries.toLocaleString('en')} queries, ${(first.dbMs / 1000).toFixed(1)} s in the database, ${(first.wallMs / 1000).toFixed(1)} s wall; ${unscheduled} stores left without a due time`);
    console.log(`  spread of due times over the interval (${SLICES} slices of ${INTERVAL_MS / SLICES / 60_000} min): ${slices.join(' ')}`);
    console.log(`    largest slice ${burst.toFixed(2)} x the mean: ${verdict(burst <= 1.25)} (no burst: <= 1.25 x)`);
    console.log(`  steady state, ${steadyMinutes} simulated minutes (${wallMs / 1000} s wall): ${probes} probes (${[...outcomes].map(([o, c]) => `${o} ${c}`).join(', ')})`);
    console.log(`    probes per minute: ${byMinute.join(' ')} (${Math.round(needed * 60)} needed)`);
    const busy = perMinute(wallMs);
    console.log(`    per minute: ${Math.round(perMinute(log.count)).toLocaleString('en')} queries (${(log.count / Math.max(1, probes)).toFixed(1)} per probe)${rowsBefore !== null && rowsAfter !== null ? `, ${Math.round(perMinute(rowsAfter - rowsBefore)).toLocaleString('en')} table rows read` : ''}, ${(perMinute(log.ms) / 1000).toFixed(2)} s of query time (summed over concurrent queries), mean ${(log.ms / Math.max(1, log.count)).toFixed(2)} ms per query`);
    console.log(`    the scheduler busy ${(busy / 1000).toFixed(1)} s per minute (its ticks' wall time, database and CPU, the store answering at once): ${verdict(busy <= 6_000)} (<= 6 s: a tenth of the minute)`);
    console.log(`    stores overdue by more than a minute at the end: ${overdue}: ${verdict(overdue === 0)}`);
    console.log(`  query plans (${log.shapes.size} distinct statements; the scheduler's query is ${dueSql ? (/UPDATE/i.test(dueSql) ? 'claimDue' : 'findDueProbes') : 'not seen'}):`);
    for (const line of explained.lines) console.log(line);
    console.log(`  every background query uses an index: ${verdict(explained.unindexed === 0)}${explained.unindexed ? ` (${explained.unindexed} without)` : ''}`);
    // The one exported function the scale benchmark times, called once more on its own.
    const single = Date.now();
    const sample = await findDueProbes(db, clock.now(), budget, sql);
    console.log(`  findDueProbes(now, ${budget}): ${sample.length} rows in ${Date.now() - single} ms`);
  } finally {
    await db.$disconnect();
    await cleanup();
  }
}

export async function probeBench(n = 100_000, steadyMinutes = 5): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-probes-'));
  await run('sqlite', `file:${join(dir, 'connector.db')}`, n, steadyMinutes, async () => rmSync(dir, { recursive: true, force: true }));
  const server = process.env.BENCH_POSTGRES_URL || process.env.TEST_POSTGRES_URL;
  if (!server) {
    console.log('probes (PostgreSQL): skipped; set BENCH_POSTGRES_URL (or TEST_POSTGRES_URL) to a server where a database may be created');
    return;
  }
  const name = `bench_probes_${randomBytes(4).toString('hex')}`;
  const admin = new PostgresClient({ adapter: new PrismaPg({ connectionString: server, max: 1 }) });
  await admin.$executeRawUnsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  try {
    await run('postgresql', url.toString(), n, steadyMinutes, async () => {});
  } finally {
    await admin.$executeRawUnsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.$disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await probeBench(Number(process.argv[2] ?? 100_000), Number(process.argv[3] ?? 5));
}
