// Raw statements on the hot paths (every callback: throttle hits, token and tombstone look-ups, the counts, the
// binding insert, its first timeline event), written once as tagged templates for both providers.
//
// Through Prisma's $queryRaw / $executeRaw one such statement costs 150-340 µs of CPU (its query compiler and client
// runtime, then the adapter preparing the statement again); on SQLite the same statement run on the driver's own
// connection, prepared once, costs 5-30 µs (issue 16, bench/activation-storm.ts). On PostgreSQL the statements go to
// Prisma's pg adapter directly (adapterSql): the same pool, the same value mapping (dates as UTC) and error kinds as
// every other query, without the client's runtime and query compiler.
import type { Database, Statement } from 'better-sqlite3';
import { StorageUnavailableError } from '../errors.js';
import type { Db } from './shared.js';

export type SqlValue = string | number | bigint | boolean | Date | null;

/** A date column as a hot statement gives it: a Date through Prisma's raw queries, text (or a number) from the drivers. */
export type SqlDate = Date | string | number;

/** A date column back as a Date, whichever path read it. */
export const dateOf = (value: SqlDate): Date => (value instanceof Date ? value : new Date(value));

/** A nullable date column back as a Date, or null. */
export const dateOrNull = (value: SqlDate | null): Date | null => (value === null ? null : dateOf(value));

/** A date as Prisma's SQLite adapter binds and stores it (ISO 8601 with "+00:00"): equality compares this text. */
export const sqliteDateText = (value: Date): string => value.toISOString().replace('Z', '+00:00');

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

/** What adapterSql needs of a Prisma driver adapter (`queryRaw` / `executeRaw` of @prisma/driver-adapter-utils). */
type ScalarType = 'datetime' | 'unknown' | 'int' | 'float' | 'string' | 'boolean' | 'bigint';
interface RawQuery {
  sql: string;
  args: unknown[];
  argTypes: { scalarType: ScalarType; arity: 'scalar' }[];
}
export interface RawQueryable {
  queryRaw(query: RawQuery): Promise<{ columnNames: string[]; rows: unknown[][] }>;
  executeRaw(query: RawQuery): Promise<number>;
}

/**
 * Through a connected driver adapter (PostgreSQL's: `$1, $2...` placeholders): `connection()` returns it once Prisma
 * has connected, undefined before (then `fallback` serves). The adapter maps each value by its JavaScript type
 * (dates to UTC timestamps) as it does for Prisma's own queries.
 */
export function adapterSql(connection: () => RawQueryable | undefined, fallback: HotSql): HotSql {
  const text = new WeakMap<TemplateStringsArray, string>();
  const query = (strings: TemplateStringsArray, values: SqlValue[]): RawQuery => {
    let sql = text.get(strings);
    if (sql === undefined) {
      sql = strings.reduce((out, part, i) => `${out}$${i}${part}`);
      text.set(strings, sql);
    }
    return { sql, args: values, argTypes: values.map((v) => ({ scalarType: scalarTypeOf(v), arity: 'scalar' as const })) };
  };
  return {
    async rows<T>(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<T[]> {
      const adapter = connection();
      if (!adapter) return fallback.rows<T>(strings, ...values);
      const { columnNames, rows } = await adapter.queryRaw(query(strings, values));
      return rows.map((row) => {
        const record: Record<string, unknown> = {};
        for (let i = 0; i < columnNames.length; i++) record[columnNames[i]!] = row[i];
        return record as T;
      });
    },
    async run(strings, ...values) {
      const adapter = connection();
      if (!adapter) return fallback.run(strings, ...values);
      return adapter.executeRaw(query(strings, values));
    },
  };
}

function scalarTypeOf(value: SqlValue): ScalarType {
  if (value instanceof Date) return 'datetime';
  if (value === null) return 'unknown';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return typeof value === 'bigint' ? 'bigint' : typeof value === 'boolean' ? 'boolean' : 'string';
}

/** How long a hot statement waits for a transaction Prisma has open on the shared connection (see below). */
const TRANSACTION_WAIT_MS = 5_000;

/**
 * On SQLite's driver connection (the one Prisma's adapter opened: `connection()` returns it once connected, or
 * undefined, and then `fallback` serves). Each template is prepared once per connection (keyed by the template
 * object, which is the same on every call from one place in the code). Values are bound as the adapter binds them:
 * dates as ISO 8601 with "+00:00", booleans as 1 / 0; integers come back as bigint (the adapter's safeIntegers).
 *
 * Group commit: the writes issued during one turn of the event loop (a burst of callbacks: their throttle hits,
 * inserts, timeline events) run together in one transaction at the end of the turn (setImmediate), and each caller
 * gets its result only after that COMMIT: an acknowledged callback's row is as durable as with its own commit. A
 * statement that fails (a constraint) is undone alone by SQLite and fails only its caller; if SQLite gives up the
 * whole transaction (I/O error, full disk) or the COMMIT fails, every caller of the group gets the error and nothing
 * of the group is stored. One commit instead of one per statement writes each touched page to the WAL once per
 * group rather than once per statement, and reaches the WAL's checkpoint (which blocks the event loop on its
 * fsync) that much less often. Reads run at once.
 *
 * One connection serves the whole process, and Prisma's batch transactions run on it between BEGIN and COMMIT over
 * several turns of the promise queue: a statement run then would become part of that transaction (and be undone with
 * it, after its callback was acknowledged). So hot statements wait until no transaction is open; the check and the
 * statements are one synchronous step, nothing can slip in between.
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
  const control = new WeakMap<Database, { begin: Statement; commit: Statement; rollback: Statement }>();
  const controlOf = (db: Database) => {
    let held = control.get(db);
    if (!held) control.set(db, (held = { begin: db.prepare('BEGIN IMMEDIATE'), commit: db.prepare('COMMIT'), rollback: db.prepare('ROLLBACK') }));
    return held;
  };
  /** Resolves once no transaction is open on `db`; what follows the await must not await before its statements. */
  const noTransaction = async (db: Database): Promise<void> => {
    const until = Date.now() + TRANSACTION_WAIT_MS;
    while (db.inTransaction) {
      if (Date.now() > until) throw new StorageUnavailableError('database unavailable: a transaction stayed open on the SQLite connection longer than 5 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  /** Runs `use` (synchronous) once no transaction is open: the check and the statement are one step. */
  const outsideTransactions = async <R>(db: Database, use: () => R): Promise<R> => {
    await noTransaction(db);
    if (db.inTransaction) return outsideTransactions(db, use); // one opened while the await resumed
    return use();
  };

  interface Write {
    run(): unknown;
    resolve(value: unknown): void;
    reject(error: unknown): void;
  }
  let group: { db: Database; writes: Write[] } | undefined;
  const write = <R>(db: Database, run: () => R): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      if (!group || group.db !== db) {
        // (A group of a previous connection is committed by its own scheduled turn.)
        group = { db, writes: [] };
        setImmediate(commitGroup, group);
      }
      group.writes.push({ run, resolve: resolve as (value: unknown) => void, reject });
    });
  async function commitGroup(this: void, current: { db: Database; writes: Write[] }): Promise<void> {
    if (group === current) group = undefined;
    const { db, writes } = current;
    try {
      await noTransaction(db);
      if (db.inTransaction) return void setImmediate(commitGroup, current);
      if (!db.open) throw new StorageUnavailableError('database unavailable: the SQLite connection was closed');
    } catch (error) {
      for (const w of writes) w.reject(error);
      return;
    }
    // From here on synchronous: nothing else runs on the connection until the group is committed or undone.
    if (writes.length === 1) {
      const [only] = writes;
      try {
        only!.resolve(only!.run());
      } catch (error) {
        only!.reject(error);
      }
      return;
    }
    const { begin, commit, rollback } = controlOf(db);
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    let lost: unknown;
    try {
      begin.run();
      for (const w of writes) {
        try {
          outcomes.push({ ok: true, value: w.run() });
        } catch (error) {
          outcomes.push({ ok: false, error });
          // SQLite undid the whole transaction (not only this statement): nothing of the group holds.
          if (!db.inTransaction) {
            lost = error;
            break;
          }
        }
      }
      if (lost === undefined) commit.run();
    } catch (error) {
      lost = error;
      if (db.inTransaction) {
        try {
          rollback.run();
        } catch {
          // the transaction is gone either way
        }
      }
    }
    writes.forEach((w, i) => {
      const outcome = outcomes[i];
      if (lost !== undefined) w.reject(lost);
      else if (outcome?.ok) w.resolve(outcome.value);
      else w.reject(outcome?.error);
    });
  }

  return {
    async rows<T>(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<T[]> {
      const db = connection();
      if (!db) return fallback.rows<T>(strings, ...values);
      const statement = statementFor(db, strings);
      const run = () => statement.all(...values.map(bindable)) as T[];
      // A write with RETURNING (the throttle upsert) commits with its group; a SELECT runs at once.
      return statement.readonly ? outsideTransactions(db, run) : write(db, run);
    },
    async run(strings, ...values) {
      const db = connection();
      if (!db) return fallback.run(strings, ...values);
      const statement = statementFor(db, strings);
      return write(db, () => statement.run(...values.map(bindable)).changes);
    },
  };
}

function bindable(value: SqlValue): string | number | bigint | null {
  if (value instanceof Date) return sqliteDateText(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}
