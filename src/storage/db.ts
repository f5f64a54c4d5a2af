// Opens the Storage DATABASE_URL names, and migrates a database the way `npm run db:migrate` does.
//   SQLite: WAL (src/storage/sqlite-wal.ts) and a busy timeout, so several processes can share the file.
//   PostgreSQL: a bounded pool with connect and query timeouts, so a dead database fails fast (503) instead of
//   hanging requests.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import type { PrismaPg } from '@prisma/adapter-pg';
import type { Database } from 'better-sqlite3';
import type { Clock } from '../clock.js';
import { ConnectorError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Sealer } from '../secrets/sealer.js';
import { projectRoot } from '../paths.js';
import { providerOf, sqliteFileFromUrl } from './database-url.js';
import { StorageError, toStorageError } from './errors.js';
import { PrismaClient as PostgresClient } from './generated/postgresql/client.js';
import { PrismaClient as SqliteClient } from './generated/sqlite/client.js';
import { ensureWal } from './sqlite-wal.js';
import { adapterSql, prismaSql, sqliteDriverSql, type RawQueryable } from './prisma/hot-sql.js';
import { createPrismaStorage, type Db } from './prisma/index.js';
import type { Storage } from './types.js';

export { StorageError, StorageUnavailableError } from './errors.js';

// PostgreSQL's adapter and driver (pg) are loaded only for a PostgreSQL URL: about 1.8 MB of heap a SQLite server
// would carry for nothing, marked by every full GC (issue 16; src/heap.ts).
const pgAdapter = () => import('@prisma/adapter-pg');

export const STORAGE_DEFAULTS = {
  /** PostgreSQL connections per instance (URL parameter `connection_limit` overrides). */
  poolSize: 10,
  /** PostgreSQL: how long to wait for a connection, new or from the pool (URL `connect_timeout`, seconds). */
  connectTimeoutMs: 5_000,
  /** PostgreSQL: longest a single query may run, server side and client side. */
  queryTimeoutMs: 30_000,
  /** SQLite: how long a write waits for another process's lock before giving up. */
  busyTimeoutMs: 5_000,
};

export interface OpenStorageOptions {
  databaseUrl: string;
  sealer: Sealer;
  /** Where row timestamps (createdAt, updatedAt) come from; the system clock by default. */
  clock?: Clock;
  logger?: Logger;
  poolSize?: number;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  busyTimeoutMs?: number;
}

/**
 * Opens storage on DATABASE_URL. SQLite opens the file now (and fails now if it cannot); PostgreSQL connects on
 * first use, so a service can start while its database is down and report that through ping().
 */
export async function openStorage(options: OpenStorageOptions): Promise<Storage> {
  const { databaseUrl, sealer, logger } = options;
  const provider = providerOf(databaseUrl);
  if (provider === 'sqlite') {
    const file = sqliteFileFromUrl(databaseUrl);
    mkdirSync(dirname(file), { recursive: true });
    const busyTimeoutMs = options.busyTimeoutMs ?? STORAGE_DEFAULTS.busyTimeoutMs;
    try {
      await ensureWal(file, busyTimeoutMs);
    } catch (error) {
      throw toStorageError(error);
    }
    const adapter = new PrismaBetterSQLite3({ url: file, timeout: busyTimeoutMs });
    const connection = captureConnection(adapter);
    const db = new SqliteClient({ adapter, errorFormat: 'minimal' });
    try {
      // NORMAL sync is durable enough with WAL (a power loss may drop the last commits, never corrupt). Both
      // settings are per connection (the journal mode is kept in the file: ensureWal above).
      await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
      await db.$executeRawUnsafe('PRAGMA foreign_keys = ON');
    } catch (error) {
      await db.$disconnect().catch(() => {});
      throw toStorageError(error);
    }
    logger?.debug({ provider, file }, 'storage opened');
    return createPrismaStorage(db, provider, sealer, options.clock, sqliteDriverSql(connection, prismaSql(db)));
  }

  const url = new URL(databaseUrl);
  const limit = Number(url.searchParams.get('connection_limit')) || undefined;
  const connectTimeoutS = Number(url.searchParams.get('connect_timeout')) || undefined;
  const queryTimeoutMs = options.queryTimeoutMs ?? STORAGE_DEFAULTS.queryTimeoutMs;
  const { PrismaPg } = await pgAdapter();
  const adapter = new PrismaPg(
    {
      connectionString: databaseUrl,
      max: options.poolSize ?? limit ?? STORAGE_DEFAULTS.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs ?? (connectTimeoutS ? connectTimeoutS * 1000 : STORAGE_DEFAULTS.connectTimeoutMs),
      idleTimeoutMillis: 30_000,
      // Detects a peer that vanished (no RST) on idle and busy connections.
      keepAlive: true,
      // The server cancels runaway statements; the client gives up a little later if the server never answers.
      statement_timeout: queryTimeoutMs,
      query_timeout: queryTimeoutMs + 5_000,
    },
    {
      onPoolError: (error) => logger?.warn({ err: { message: error.message } }, 'idle PostgreSQL connection failed'),
    },
  );
  const connection = captureAdapter(adapter);
  // Same models, same delegates: only the provider-specific internals of the two generated clients differ.
  const db = new PostgresClient({ adapter, errorFormat: 'minimal' }) as unknown as Db;
  logger?.debug({ provider, host: url.hostname, database: url.pathname.slice(1) }, 'storage opened');
  return createPrismaStorage(db, provider, sealer, options.clock, adapterSql(connection, prismaSql(db)));
}

/**
 * The better-sqlite3 connection the adapter opens for Prisma (Prisma connects on first use, and again after a
 * disconnect): the hot statements run on it (src/storage/prisma/hot-sql.ts), so there is still one connection per
 * process. The adapter keeps it as `client` (not part of its typed interface: checked, and without it the hot
 * statements go through Prisma).
 */
export function captureConnection(adapter: PrismaBetterSQLite3): () => Database | undefined {
  let connection: Database | undefined;
  const connect = adapter.connect.bind(adapter);
  adapter.connect = async () => {
    const opened = await connect();
    const client = (opened as unknown as { client?: Partial<Database> }).client;
    connection = typeof client?.prepare === 'function' && typeof client.inTransaction === 'boolean' ? (client as Database) : undefined;
    return opened;
  };
  return () => (connection?.open ? connection : undefined);
}

/** The connected pg adapter Prisma uses (its pool): the hot statements go to it directly (src/storage/prisma/hot-sql.ts). */
export function captureAdapter(factory: PrismaPg): () => RawQueryable | undefined {
  let connected: RawQueryable | undefined;
  let disposed = false;
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const opened = await connect();
    disposed = false;
    connected = opened;
    const dispose = opened.dispose.bind(opened);
    // After a disconnect the pool is ended: until Prisma connects again, the fallback (which reconnects) serves.
    opened.dispose = async () => {
      disposed = true;
      await dispose();
    };
    return opened;
  };
  return () => (disposed ? undefined : connected);
}

const root = `${projectRoot}/`;

export class MigrationError extends StorageError {
  override name = 'MigrationError';
  constructor(
    message: string,
    /** What Prisma printed (no secrets: it names host and database, never the password). */
    readonly output: string,
  ) {
    super(message);
  }
}

/**
 * Applies prisma/<provider>/migrations to the database: runs `tsx scripts/prisma.ts migrate deploy` (what
 * `npm run db:migrate` runs) as a child process. Throws MigrationError with Prisma's output on failure.
 */
export async function migrate(databaseUrl: string, options: { timeoutMs?: number } = {}): Promise<void> {
  providerOf(databaseUrl); // a clear error for a URL that names no backend, before starting a child
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [tsx, `${root}scripts/prisma.ts`, 'migrate', 'deploy'],
      {
        cwd: root,
        env: { ...process.env, DATABASE_URL: databaseUrl },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve();
        const output = `${stdout}${stderr}`.trim();
        const why = error.killed ? 'timed out' : `failed (exit code ${error.code ?? 'unknown'})`;
        reject(new MigrationError(`prisma migrate deploy ${why}:\n${output}`, output));
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Start-up checks, on a connection of their own (before Storage opens, and without Prisma's CLI).

/** The database lacks migrations this code needs, or has ones it does not know. The fix is one command. */
export class SchemaOutdatedError extends ConnectorError<'schema_outdated'> {
  constructor(
    message: string,
    readonly pending: readonly string[],
    readonly unknown: readonly string[],
  ) {
    super('schema_outdated', message, { fix: 'run npm run db:migrate' });
  }
}

type RawConnection = Awaited<ReturnType<PrismaBetterSQLite3['connect']>>;

async function withConnection<T>(databaseUrl: string, use: (c: RawConnection) => Promise<T>): Promise<T> {
  const provider = providerOf(databaseUrl);
  let connection: RawConnection;
  try {
    if (provider === 'sqlite') {
      const file = sqliteFileFromUrl(databaseUrl);
      mkdirSync(dirname(file), { recursive: true });
      connection = await new PrismaBetterSQLite3({ url: file, timeout: STORAGE_DEFAULTS.busyTimeoutMs }).connect();
    } else {
      const { PrismaPg } = await pgAdapter();
      connection = await new PrismaPg({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: STORAGE_DEFAULTS.connectTimeoutMs }).connect();
    }
  } catch (error) {
    throw toStorageError(error);
  }
  try {
    return await use(connection);
  } finally {
    await connection.dispose().catch(() => {});
  }
}

async function rows(connection: RawConnection, sql: string): Promise<unknown[][]> {
  return (await connection.queryRaw({ sql, args: [], argTypes: [] })).rows;
}

function missingTable(error: unknown): boolean {
  const text = `${(error as Error)?.message ?? ''} ${JSON.stringify((error as { cause?: unknown })?.cause ?? {})}`;
  return /no such table|does not exist|42P01|TableDoesNotExist/.test(text);
}

/** The migration folders of a provider, oldest first: what `npm run db:migrate` would apply. */
export function migrationNames(provider: 'sqlite' | 'postgresql'): string[] {
  const dir = join(root, 'prisma', provider, 'migrations');
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'migration.sql')))
    .sort();
}

/**
 * Compares the migrations recorded in `_prisma_migrations` with the migration folders. Throws SchemaOutdatedError
 * when one is missing on either side; never changes the database (the CLI runs next to servers that hold it).
 */
export async function checkSchema(databaseUrl: string): Promise<void> {
  const provider = providerOf(databaseUrl);
  const expected = migrationNames(provider);
  const applied = await withConnection(databaseUrl, async (c) => {
    try {
      const found = await rows(c, 'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL');
      return found.map((r) => String(r[0]));
    } catch (error) {
      if (missingTable(error)) return null;
      throw toStorageError(error);
    }
  });
  if (applied === null) {
    throw new SchemaOutdatedError('the database has no tables yet: run npm run db:migrate (npm start does it too)', expected, []);
  }
  const pending = expected.filter((name) => !applied.includes(name));
  const unknown = applied.filter((name) => !expected.includes(name));
  if (unknown.length) {
    throw new SchemaOutdatedError(
      `the database was migrated by a newer release (migrations this code does not have: ${unknown.join(', ')}): run the newer release, or restore a backup`,
      pending,
      unknown,
    );
  }
  if (pending.length) {
    throw new SchemaOutdatedError(`the database schema is not current (${pending.length} migration(s) not applied: ${pending.join(', ')}): run npm run db:migrate`, pending, []);
  }
}

/** Whether checkSchema would pass; false when migrations are pending (other failures still throw). */
export async function schemaIsCurrent(databaseUrl: string): Promise<boolean> {
  try {
    await checkSchema(databaseUrl);
    return true;
  } catch (error) {
    if (error instanceof SchemaOutdatedError && !error.unknown.length) return false;
    throw error;
  }
}

/**
 * One sealed value the database holds (a binding's consumer secret), or null when it holds none: enough to check
 * at start-up that the configured keys open what is stored.
 */
export async function sealedSample(databaseUrl: string): Promise<string | null> {
  return withConnection(databaseUrl, async (c) => {
    try {
      const found = await rows(c, 'SELECT "consumerSecretSealed" FROM "Binding" LIMIT 1');
      return found.length ? String(found[0]![0]) : null;
    } catch (error) {
      if (missingTable(error)) return null;
      throw toStorageError(error);
    }
  });
}
