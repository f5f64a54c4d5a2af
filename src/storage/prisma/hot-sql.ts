// Raw statements on the hot paths (every callback: throttle hits, token and tombstone look-ups, the counts, the
// binding insert, its first timeline event), written once as tagged templates for both providers.
//
// Through Prisma's $queryRaw / $executeRaw one such statement costs 150-340 µs of CPU (its query compiler and client
// runtime, then the adapter preparing the statement again); on SQLite the same statement run on the driver's own
// connection, prepared once, costs 5-30 µs (issue 16, bench/activation-storm.ts). PostgreSQL goes through Prisma as
// before (prismaSql): its round trips, not the client's CPU, are that backend's cost, and the adapter's date mapping
// stays the one every other query uses.
import type { Database, Statement } from 'better-sqlite3';
import { StorageUnavailableError } from '../errors.js';
import type { Db } from './shared.js';

export type SqlValue = string | number | bigint | boolean | Date | null;

export interface HotSql {
  /** The rows of a SELECT, or of a write with RETURNING. */
  rows<T>(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<T[]>;
  /** How many rows a write changed. */
  run(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<number>;
}

/** Through Prisma's raw queries: the same statements on either provider. */
export function prismaSql(db: Db): HotSql {
  return {
    rows: <T>(strings: TemplateStringsArray, ...values: SqlValue[]) => db.$queryRaw<T[]>(strings, ...values),
    run: (strings, ...values) => db.$executeRaw(strings, ...values),
  };
}

/** How long a hot statement waits for a transaction Prisma has open on the shared connection (see below). */
const TRANSACTION_WAIT_MS = 5_000;

/**
 * On SQLite's driver connection (the one Prisma's adapter opened: `connection()` returns it once connected, or
 * undefined, and then `fallback` serves). Each template is prepared once per connection (keyed by the template
 * object, which is the same on every call from one place in the code). Values are bound as the adapter binds them:
 * dates as ISO 8601 with "+00:00", booleans as 1 / 0; integers come back as bigint (the adapter's safeIntegers).
 *
 * One connection serves the whole process, and Prisma's batch transactions run on it between BEGIN and COMMIT over
 * several turns of the promise queue: a statement run then would become part of that transaction (and be undone with
 * it, after its callback was acknowledged). So a hot statement waits until no transaction is open; the check and
 * the statement are one synchronous step, nothing can slip in between.
 */
export function sqliteDriverSql(connection: () => Database | undefined, fallback: HotSql): HotSql {
  const prepared = new WeakMap<TemplateStringsArray, { on: Database; statement: Statement }>();
  const statementFor = (db: Database, strings: TemplateStringsArray): Statement => {
    const held = prepared.get(strings);
    if (held && held.on === db) return held.statement;
    const statement = db.prepare(strings.join('?'));
    prepared.set(strings, { on: db, statement });
    return statement;
  };
  /** Runs `use` (synchronous) once no transaction is open: the check and the statement are one step. */
  const outsideTransactions = async <R>(db: Database, use: () => R): Promise<R> => {
    const until = Date.now() + TRANSACTION_WAIT_MS;
    while (db.inTransaction) {
      if (Date.now() > until) throw new StorageUnavailableError('database unavailable: a transaction stayed open on the SQLite connection longer than 5 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
    return use();
  };
  return {
    async rows<T>(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<T[]> {
      const db = connection();
      if (!db) return fallback.rows<T>(strings, ...values);
      return outsideTransactions(db, () => statementFor(db, strings).all(...values.map(bindable)) as T[]);
    },
    async run(strings, ...values) {
      const db = connection();
      if (!db) return fallback.run(strings, ...values);
      return outsideTransactions(db, () => statementFor(db, strings).run(...values.map(bindable)).changes);
    },
  };
}

function bindable(value: SqlValue): string | number | bigint | null {
  if (value instanceof Date) return value.toISOString().replace('Z', '+00:00');
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}
