// Seeds a large deployment straight into the database for bench/scale.ts: accounts with one API key each, and active
// bindings spread over them, sealed with the real Sealer exactly as the activation steps seal them (consumer secret,
// access token, its secret and verifier), inserted in batches of raw multi-row INSERTs (100,000 bindings take
// seconds, not the hour 100,000 activations would). test/storage/scale-seed.test.ts checks that the rows open with
// the real repositories and are served by the proxy, so this cannot silently drift from the schema.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { newApiKey } from '../src/accounts/tokens.js';
import type { Sealer } from '../src/secrets/sealer.js';
import { providerOf, sqliteFileFromUrl } from '../src/storage/database-url.js';
import { Prisma as SqlitePrisma, PrismaClient as SqliteClient } from '../src/storage/generated/sqlite/client.js';
import { PrismaClient as PostgresClient } from '../src/storage/generated/postgresql/client.js';
import type { Db } from '../src/storage/prisma/index.js';

export interface LoggedQuery {
  sql: string;
  params: unknown[];
  ms: number;
}

export interface BenchDb {
  db: Db;
  provider: 'sqlite' | 'postgresql';
  /** Every statement Prisma sent since the last take() (with `logQueries`). */
  take(): LoggedQuery[];
  close(): Promise<void>;
}

/** A Prisma client on DATABASE_URL, like src/storage/db.ts opens one, optionally recording the SQL it sends. */
export async function openBenchDb(databaseUrl: string, { logQueries = false } = {}): Promise<BenchDb> {
  const provider = providerOf(databaseUrl);
  const log = logQueries ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  let db: Db;
  if (provider === 'sqlite') {
    const file = sqliteFileFromUrl(databaseUrl);
    mkdirSync(dirname(file), { recursive: true });
    db = new SqliteClient({ adapter: new PrismaBetterSQLite3({ url: file, timeout: 30_000 }), log }) as unknown as Db;
    await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
    await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
  } else {
    db = new PostgresClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: 4 }), log }) as unknown as Db;
  }
  let queries: LoggedQuery[] = [];
  if (logQueries) {
    // The generated clients type $on by their log options; both deliver { query, params, duration }.
    (db as unknown as { $on(e: 'query', f: (e: { query: string; params: string; duration: number }) => void): void }).$on('query', (e) => {
      let params: unknown[] = [];
      try {
        params = JSON.parse(e.params) as unknown[];
      } catch {
        // not JSON: leave the statement without parameters
      }
      queries.push({ sql: e.query, params, ms: e.duration });
    });
  }
  return {
    db,
    provider,
    take() {
      const out = queries;
      queries = [];
      return out;
    },
    close: () => db.$disconnect(),
  };
}

export interface SeedOptions {
  bindings: number;
  accounts: number;
  /** Every binding's store (the bench's mock store); ids differ, the store is shared. */
  storeBaseUrl: string;
  sealer: Sealer;
  now: Date;
  /** Due probe times are spread over [now, now + probeIntervalMs), as the scheduler spreads them. */
  probeIntervalMs: number;
  /** Bindings with request-token work and probes due at `now` (the same few at every size). Default 10. */
  dueRows?: number;
  /** Rows per INSERT. Default 500. */
  batch?: number;
  /** Prefix of ids, consumer keys and emails, so two seedings in one database never collide. */
  tag?: string;
  /** Each binding's credentials in clear as it is seeded (tests register them with the mock store). */
  onBinding?: (binding: SeededBinding) => void;
}

export interface SeededBinding {
  id: string;
  state: 'active' | 'revoked' | 'failed' | 'pending';
  consumerKey: string;
  consumerSecret: string;
  accessToken: { token: string; secret: string } | null;
}

export interface SeededAccount {
  id: string;
  /** The API key in clear (only its SHA-256 is stored, as for real keys). */
  apiKey: string;
  bindingIds: string[];
}

export interface Seeded {
  accounts: SeededAccount[];
  bindings: number;
  ms: number;
}

// The mix of a mature deployment: most stores active, some revoked or failed, a few waiting for a retry later.
function stateOf(i: number): 'active' | 'revoked' | 'failed' | 'pending' {
  const r = i % 100;
  return r < 90 ? 'active' : r < 95 ? 'revoked' : r < 98 ? 'failed' : 'pending';
}

// Magento's keys and tokens are 32 lower-case letters and digits.
const token = () => randomBytes(16).toString('hex');

/** Seeds `bindings` bindings over `accounts` accounts (round robin) and returns the accounts with their keys. */
export async function seedScale(db: Db, o: SeedOptions): Promise<Seeded> {
  const started = performance.now();
  const batch = o.batch ?? 500;
  const tag = o.tag ?? randomBytes(3).toString('hex');
  const dueRows = Math.min(o.dueRows ?? 10, Math.floor(o.bindings / 4));
  const { sealer, now } = o;
  const at = (ms: number) => new Date(now.getTime() + ms);
  const sql = SqlitePrisma; // the tagged-template helpers are the same in both generated clients

  const accounts: SeededAccount[] = Array.from({ length: o.accounts }, (_, i) => ({ id: randomUUID(), apiKey: '', bindingIds: [] as string[] }));
  for (let start = 0; start < accounts.length; start += batch) {
    const slice = accounts.slice(start, start + batch);
    const keys = slice.map((a) => {
      const k = newApiKey();
      a.apiKey = k.key;
      return k;
    });
    await db.$executeRaw`INSERT INTO "Account" ("id", "email", "passwordHash", "createdAt") VALUES ${sql.join(
      slice.map((a, j) => sql.sql`(${a.id}, ${`scale-${tag}-${start + j}@scale.example`}, ${''}, ${now})`),
    )}`;
    await db.$executeRaw`INSERT INTO "ApiKey" ("id", "accountId", "name", "prefix", "hash", "createdAt") VALUES ${sql.join(
      slice.map((a, j) => sql.sql`(${randomUUID()}, ${a.id}, ${'scale bench'}, ${keys[j]!.prefix}, ${keys[j]!.hash}, ${now})`),
    )}`;
    // A live browser session per account (housekeeping deletes only the expired ones).
    await db.$executeRaw`INSERT INTO "Session" ("id", "accountId", "createdAt", "expiresAt") VALUES ${sql.join(
      slice.map((a) => sql.sql`(${token() + token()}, ${a.id}, ${now}, ${at(7 * 86_400_000)})`),
    )}`;
  }

  // Webhook history: one subscription and a delivered store.connected event for every 10th store (the worker's poll
  // must not read delivered rows).
  const subscriptionId = randomUUID();
  await db.$executeRaw`INSERT INTO "WebhookSubscription" ("id", "url", "events", "secretSealed", "createdAt")
    VALUES (${subscriptionId}, ${'https://crm.example/hooks'}, ${''}, ${sealer.seal(token())}, ${now})`;
  const history: { id: string; storeId: string; accountId: string }[] = [];

  for (let start = 0; start < o.bindings; start += batch) {
    const rows: ReturnType<typeof sql.sql>[] = [];
    for (let i = start; i < Math.min(o.bindings, start + batch); i++) {
      const id = randomUUID();
      const account = accounts[i % accounts.length]!;
      // The first `dueRows` have request-token work due now (their claims ran out); the next `dueRows` active ones
      // have a probe due now; pending ones wait for a retry later; every other active store's probe is spread ahead.
      const dueWork = i < dueRows;
      const state = dueWork ? 'pending' : stateOf(i);
      const active = state === 'active';
      if (active) account.bindingIds.push(id);
      if (i % 10 === 0) history.push({ id: randomUUID(), storeId: id, accountId: account.id });
      const accessToken = active || state === 'revoked' ? { token: token(), secret: token(), verifier: token() } : null;
      const consumerKey = `s${tag}${String(i).padStart(8, '0')}${token()}`.slice(0, 32);
      const consumerSecret = token();
      o.onBinding?.({ id, state, consumerKey, consumerSecret, accessToken: accessToken && { token: accessToken.token, secret: accessToken.secret } });
      const nextAttemptAt = dueWork ? at(-60_000) : state === 'pending' ? at(600_000 + (i % 3600) * 1000) : null;
      const probeDue = active && i < 2 * dueRows;
      const nextProbeAt = !active ? null : probeDue ? at(-1_000 - i) : at(1_000 + Math.floor(Math.random() * (o.probeIntervalMs - 1_000)));
      rows.push(sql.sql`(${id}, ${consumerKey}, ${o.storeBaseUrl}, ${state}, ${account.id},
        ${sealer.seal(consumerSecret)}, ${state === 'pending' ? sealer.seal(token()) : null}, ${at(-86_400_000)},
        ${accessToken && sealer.seal(accessToken.token)}, ${accessToken && sealer.seal(accessToken.secret)}, ${accessToken && sealer.seal(accessToken.verifier)},
        ${active ? at(-86_000_000) : null}, ${state === 'revoked' ? at(-3_600_000) : null}, ${nextAttemptAt}, ${dueWork ? at(-120_000) : null},
        ${state === 'failed' ? 'the store could not be reached' : null}, ${nextProbeAt}, false, 0, 0, ${now}, ${now})`);
    }
    await db.$executeRaw`INSERT INTO "Binding" ("id", "consumerKey", "storeBaseUrl", "state", "accountId",
        "consumerSecretSealed", "verifierSealed", "callbackAt",
        "accessTokenSealed", "accessTokenSecretSealed", "accessVerifierSealed",
        "activatedAt", "revokedAt", "nextAttemptAt", "stepUntil",
        "lastError", "nextProbeAt", "accessOutcomeUnknown", "stepAttempts", "version", "createdAt", "updatedAt")
      VALUES ${sql.join(rows)}`;
  }
  for (let start = 0; start < history.length; start += batch) {
    const slice = history.slice(start, start + batch);
    await db.$executeRaw`INSERT INTO "WebhookEvent" ("id", "type", "storeId", "accountId", "payload", "sequence", "createdAt") VALUES ${sql.join(
      slice.map((e) => sql.sql`(${e.id}, ${'store.connected'}, ${e.storeId}, ${e.accountId}, ${'{}'}, 1, ${at(-86_000_000)})`),
    )}`;
    await db.$executeRaw`INSERT INTO "WebhookDelivery" ("eventId", "subscriptionId", "storeId", "sequence", "status", "attempts", "nextAttemptAt",
        "firstAttemptAt", "lastAttemptAt", "lastStatus", "deliveredAt", "createdAt") VALUES ${sql.join(
      slice.map((e) => sql.sql`(${e.id}, ${subscriptionId}, ${e.storeId}, 1, ${'delivered'}, 1, ${at(-86_000_000)}, ${at(-86_000_000)}, ${at(-86_000_000)}, 200, ${at(-86_000_000)}, ${at(-86_000_000)})`),
    )}`;
  }
  // Fresh statistics, as a database that grew over months would have (the planners choose by them).
  await db.$executeRawUnsafe('ANALYZE');
  return { accounts: accounts.map(({ id, apiKey, bindingIds }) => ({ id, apiKey, bindingIds })), bindings: o.bindings, ms: performance.now() - started };
}
