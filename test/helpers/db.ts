// One test battery, every backend. Each call of freshStorage() gets its own empty, migrated database, quickly:
//   SQLite      a template file is migrated once (per set of migrations, cached under test-output/db/) and copied;
//   PostgreSQL  (TEST_POSTGRES_URL) a template database is migrated once, then CREATE DATABASE ... TEMPLATE.
// Without TEST_POSTGRES_URL the PostgreSQL tests are skipped, and the run says so once (test/helpers/skips.ts),
// except under CI, where that is a failure.
//
//   import { forEachBackend, freshStorage } from '../helpers/db.js';
//   forEachBackend((backend, test) => {
//     test('finds an account by email', async (t) => {
//       const { storage } = await freshStorage(backend, t); // dropped when the test ends
//       ...
//     });
//   });
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { Sealer } from '../../src/secrets/sealer.js';
import { migrate, openStorage } from '../../src/storage/db.js';
import type { Storage } from '../../src/storage/types.js';
import { inCi, POSTGRES_SKIPPED as POSTGRES_HOW, recordSkip } from './skips.js';

export type Backend = 'sqlite' | 'postgresql';
export const ALL_BACKENDS: readonly Backend[] = ['sqlite', 'postgresql'];

export const POSTGRES_SKIPPED = `PostgreSQL tests skipped: ${POSTGRES_HOW}`;
export const POSTGRES_REQUIRED_IN_CI =
  'TEST_POSTGRES_URL is not set, but CI is: the PostgreSQL tests must run in CI. Start a server with ' +
  'scripts/postgres.sh start and export TEST_POSTGRES_URL=<the URL it prints>';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outputDir = join(root, 'test-output', 'db');

export function postgresUrl(): string | undefined {
  return process.env.TEST_POSTGRES_URL || undefined;
}

/** The backends this run covers. Throws under CI when PostgreSQL is not configured: that is never a skip. */
export function backends(): Backend[] {
  if (postgresUrl()) return [...ALL_BACKENDS];
  if (inCi()) throw new Error(POSTGRES_REQUIRED_IN_CI);
  return ['sqlite'];
}

// ---------------------------------------------------------------------------------------------------------------
// Per-backend test declarations

type Impl = (t: ExecutionContext) => void | PromiseLike<void>;

/** ava's test(), with titles prefixed by the backend: "[sqlite] ...", "[postgresql] ...". */
export interface BackendTest {
  (title: string, impl: Impl): void;
  serial(title: string, impl: Impl): void;
  skip(title: string, impl: Impl): void;
  only(title: string, impl: Impl): void;
  failing(title: string, impl: Impl): void;
}

function backendTest(backend: Backend): BackendTest {
  const title = (t: string) => `[${backend}] ${t}`;
  return Object.assign((t: string, impl: Impl) => test(title(t), impl), {
    serial: (t: string, impl: Impl) => test.serial(title(t), impl),
    skip: (t: string, impl: Impl) => test.skip(title(t), impl),
    only: (t: string, impl: Impl) => test.only(title(t), impl),
    failing: (t: string, impl: Impl) => test.failing(title(t), impl),
  });
}

let cleanupRegistered = false;

/**
 * Declares the same tests once per backend. PostgreSQL without TEST_POSTGRES_URL: recorded as skipped (the run
 * lists skipped suites once, see skips.ts), or under CI a failing test. Databases left open are dropped when the
 * file ends.
 */
export function forEachBackend(define: (backend: Backend, test: BackendTest) => void): void {
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    test.after.always('drop the test databases', disposeAll);
  }
  for (const backend of ALL_BACKENDS) {
    if (backend === 'postgresql' && !postgresUrl()) {
      if (inCi()) {
        test('[postgresql] TEST_POSTGRES_URL must be set in CI', (t) => t.fail(POSTGRES_REQUIRED_IN_CI));
      } else {
        recordSkip(test.meta.file, 'the [postgresql] half', POSTGRES_HOW);
      }
      continue;
    }
    define(backend, backendTest(backend));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fresh databases

export interface FreshDatabase {
  backend: Backend;
  /** DATABASE_URL of this database (for code under test that opens its own storage, or a child process). */
  url: string;
  /** Deletes the database. Close every client of it first (PostgreSQL drops it regardless, WITH (FORCE)). */
  drop(): Promise<void>;
}

export interface FreshStorage extends FreshDatabase {
  storage: Storage;
  sealer: Sealer;
  /** Runs SQL on the database directly, outside Storage (to look at what is really stored). */
  raw(sql: string): Promise<Record<string, unknown>[]>;
  /** Closes the storage and drops the database. */
  dispose(): Promise<void>;
}

// What this process created and has not dropped yet: storages are closed before any database is dropped.
const openStorages = new Set<() => Promise<void>>();
const openDatabases = new Set<() => Promise<void>>();
let counter = 0;

/** Makes drop() idempotent and remembered, so disposeAll() can drop what a test left behind. */
function tracked(database: FreshDatabase): FreshDatabase {
  let dropped: Promise<void> | undefined;
  const drop = () => {
    dropped ??= (async () => {
      openDatabases.delete(drop);
      await database.drop();
    })();
    return dropped;
  };
  openDatabases.add(drop);
  return { ...database, drop };
}

function uniqueName(): string {
  return `${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
}

/** An empty database with every migration applied, of its own. */
export async function freshDatabase(backend: Backend): Promise<FreshDatabase> {
  return tracked(backend === 'sqlite' ? await freshSqlite() : await freshPostgres());
}

let sealer: Sealer | undefined;

/** One random sealing key per test process. */
export function testSealer(): Sealer {
  sealer ??= new Sealer([{ id: 'test', key: randomBytes(32) }]);
  return sealer;
}

/**
 * A Storage on a fresh database. Pass the test's `t` to close and drop it when the test ends; otherwise call
 * dispose(), or rely on forEachBackend's cleanup at the end of the file.
 */
export async function freshStorage(
  backend: Backend,
  t?: ExecutionContext,
  options: { sealer?: Sealer; poolSize?: number } = {},
): Promise<FreshStorage> {
  const database = await freshDatabase(backend);
  const usedSealer = options.sealer ?? testSealer();
  // Few connections per test database (many exist at once, across parallel test files), and a long wait for one:
  // a loaded test machine is not a database outage.
  const storage = await openStorage({
    databaseUrl: database.url,
    sealer: usedSealer,
    poolSize: options.poolSize ?? 4,
    connectTimeoutMs: 30_000,
  });
  let disposed: Promise<void> | undefined;
  const dispose = () => {
    disposed ??= (async () => {
      openStorages.delete(dispose);
      await storage.close().catch(() => {});
      await database.drop();
    })();
    return disposed;
  };
  openStorages.add(dispose);
  t?.teardown(dispose);
  return { ...database, storage, sealer: usedSealer, raw: (sql) => rawQuery(backend, database.url, sql), dispose };
}

/**
 * Closes every storage and drops every database this process's helpers handed out and nobody disposed of
 * (forEachBackend registers it to run when the file's tests are done; other test files can use test.after.always).
 */
export async function disposeAll(): Promise<void> {
  await Promise.all([...openStorages].map((dispose) => dispose()));
  await Promise.all([...openDatabases].map((drop) => drop()));
  await adminPool?.dispose();
  adminPool = undefined;
}

/** A database with nothing in it, not even the migrations (for tests of the migrations themselves). */
export async function emptyDatabase(backend: Backend): Promise<FreshDatabase> {
  if (backend === 'sqlite') {
    mkdirSync(outputDir, { recursive: true });
    const file = join(outputDir, `test-${uniqueName()}.db`);
    return tracked({ backend, url: `file:${file}`, drop: async () => removeSqliteFiles(file) });
  }
  const adminUrl = postgresUrl();
  if (!adminUrl) throw new Error(inCi() ? POSTGRES_REQUIRED_IN_CI : POSTGRES_SKIPPED);
  const name = `connector_test_${uniqueName()}`;
  await (await admin(adminUrl)).executeScript(`CREATE DATABASE "${name}"`);
  return tracked({ backend, url: databaseUrl(adminUrl, name), drop: () => dropPostgres(adminUrl, name) });
}

/** Runs a script on a database directly, the way `prisma migrate deploy` runs a migration (the provider's driver adapter). */
export async function executeScript(backend: Backend, url: string, script: string): Promise<void> {
  const connection = await rawConnection(backend, url);
  try {
    await connection.executeScript(script);
  } finally {
    await connection.dispose();
  }
}

const rawConnection = (backend: Backend, url: string) =>
  backend === 'sqlite' ? new PrismaBetterSQLite3({ url: url.replace(/^file:/, '') }).connect() : new PrismaPg({ connectionString: url, max: 1 }).connect();

/** Runs SQL on a database directly (one connection, closed afterwards); rows as objects. */
export async function rawQuery(backend: Backend, url: string, sql: string): Promise<Record<string, unknown>[]> {
  const connection = await rawConnection(backend, url);
  try {
    const result = await connection.queryRaw({ sql, args: [], argTypes: [] });
    return result.rows.map((row) => Object.fromEntries(result.columnNames.map((name, i) => [name, row[i]])));
  } finally {
    await connection.dispose();
  }
}

/** A short digest of a provider's migrations: templates are rebuilt whenever a migration changes. */
function migrationsDigest(backend: Backend): string {
  const dir = join(root, 'prisma', backend, 'migrations');
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, 'migration.sql');
    if (!existsSync(file)) continue;
    hash.update(`${name}\n`).update(readFileSync(file)).update('\n');
  }
  return hash.digest('hex').slice(0, 12);
}

// SQLite ---------------------------------------------------------------------------------------------------------

let sqliteTemplatePath: Promise<string> | undefined;

async function freshSqlite(): Promise<FreshDatabase> {
  const template = await (sqliteTemplatePath ??= sqliteTemplate());
  const file = join(outputDir, `test-${uniqueName()}.db`);
  copyFileSync(template, file);
  return {
    backend: 'sqlite',
    url: `file:${file}`,
    drop: async () => removeSqliteFiles(file),
  };
}

function removeSqliteFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}

/** Migrates the template once; parallel test processes wait on a lock file instead of migrating too. */
async function sqliteTemplate(): Promise<string> {
  mkdirSync(outputDir, { recursive: true });
  removeFilesOfDeadProcesses();
  const template = join(outputDir, `template-sqlite-${migrationsDigest('sqlite')}.db`);
  const lock = `${template}.lock`;
  const deadline = Date.now() + 120_000;
  while (!existsSync(template)) {
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (delete it if no test run is active)`);
      if (isStale(lock)) rmSync(lock, { force: true });
      await sleep(100);
      continue;
    }
    try {
      if (existsSync(template)) break;
      const building = `${template}.${process.pid}.building`;
      rmSync(building, { force: true });
      await migrate(`file:${building}`);
      renameSync(building, template); // atomic: nobody copies a half-migrated template
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
  return template;
}

function isStale(lock: string): boolean {
  try {
    return Date.now() - statSync(lock).mtimeMs > 90_000;
  } catch {
    return false;
  }
}

/** Test databases of processes that died before dropping them (crash, ^C). */
function removeFilesOfDeadProcesses(): void {
  for (const name of readdirSync(outputDir)) {
    const pid = Number(/^test-(\d+)_/.exec(name)?.[1]);
    if (pid && !isAlive(pid)) rmSync(join(outputDir, name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// PostgreSQL -----------------------------------------------------------------------------------------------------

type PgConnection = Awaited<ReturnType<PrismaPg['connect']>>;

let adminPool: PgConnection | undefined;
let postgresTemplateName: Promise<string> | undefined;

async function admin(url: string): Promise<PgConnection> {
  // Generous wait for a free connection: under parallel test files, CREATE DATABASE calls queue up behind each other.
  adminPool ??= await new PrismaPg({ connectionString: url, max: 3, allowExitOnIdle: true, connectionTimeoutMillis: 30_000 }).connect();
  return adminPool;
}

function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function freshPostgres(): Promise<FreshDatabase> {
  const adminUrl = postgresUrl();
  if (!adminUrl) throw new Error(inCi() ? POSTGRES_REQUIRED_IN_CI : POSTGRES_SKIPPED);
  const template = await (postgresTemplateName ??= postgresTemplate(adminUrl));
  const name = `connector_test_${uniqueName()}`;
  const connection = await admin(adminUrl);
  await whileInUse(() => connection.executeScript(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  return {
    backend: 'postgresql',
    url: databaseUrl(adminUrl, name),
    drop: () => dropPostgres(adminUrl, name),
  };
}

async function dropPostgres(adminUrl: string, name: string): Promise<void> {
  await (await admin(adminUrl)).executeScript(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

async function databaseExists(connection: PgConnection, name: string): Promise<boolean> {
  // ::text because the adapter cannot read PostgreSQL's `name` type.
  const result = await connection.queryRaw({ sql: `SELECT datname::text FROM pg_database WHERE datname = '${name}'`, args: [], argTypes: [] });
  return result.rows.length > 0;
}

/**
 * Builds the template database once per set of migrations, under an advisory lock so parallel test processes do
 * not race: the first builds it aside and renames it into place, the others wait and find it.
 */
async function postgresTemplate(adminUrl: string): Promise<string> {
  const name = `connector_tpl_${migrationsDigest('postgresql')}`;
  if (await databaseExists(await admin(adminUrl), name)) return name;
  // One connection that stays open: the advisory lock belongs to its session.
  const locked = await new PrismaPg({ connectionString: adminUrl, max: 1, idleTimeoutMillis: 0, connectionTimeoutMillis: 5_000 }).connect();
  try {
    await locked.executeScript('SELECT pg_advisory_lock(727073690)');
    if (await databaseExists(locked, name)) return name;
    const building = `${name}_building`;
    await locked.executeScript(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
    await locked.executeScript(`CREATE DATABASE "${building}"`);
    await migrate(databaseUrl(adminUrl, building));
    await whileInUse(() => locked.executeScript(`ALTER DATABASE "${building}" RENAME TO "${name}"`));
    // Templates of older migrations are of no further use (best effort: another run may still be copying one).
    const old = await locked.queryRaw({
      sql: `SELECT datname::text FROM pg_database WHERE datname LIKE 'connector\\_tpl\\_%' AND datname <> '${name}'`,
      args: [],
      argTypes: [],
    });
    for (const [oldName] of old.rows) await locked.executeScript(`DROP DATABASE IF EXISTS "${String(oldName)}"`).catch(() => {});
    return name;
  } finally {
    await locked.executeScript('SELECT pg_advisory_unlock(727073690)').catch(() => {});
    await locked.dispose();
  }
}

/** Retries while PostgreSQL says the source database is still in use (a just-finished session is still exiting). */
async function whileInUse(action: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      const text = `${(error as Error).message} ${JSON.stringify((error as { cause?: unknown }).cause ?? {})}`;
      if (attempt >= 50 || !/55006|being accessed by other users/.test(text)) throw error;
      await sleep(100);
    }
  }
}
