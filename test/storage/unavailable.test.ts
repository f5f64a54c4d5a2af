// A database that is down, unreachable, locked or not migrated surfaces as StorageUnavailableError (the HTTP layer's
// 503), promptly, never as a hang. migrate() reports Prisma's own words when it fails.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import test from 'ava';
import Database from 'better-sqlite3';
import { Sealer } from '../../src/secrets/sealer.js';
import { migrate, MigrationError, openStorage, StorageUnavailableError } from '../../src/storage/db.js';
import { forEachBackend, freshStorage } from '../helpers/db.js';

const sealer = new Sealer([{ id: 't', key: randomBytes(32) }]);

async function listen(onSocket: (socket: Socket) => void = () => {}): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

async function freePort(): Promise<number> {
  const { server, port } = await listen();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('PostgreSQL: nothing listening -> StorageUnavailableError saying the server cannot be reached', async (t) => {
  const storage = await openStorage({ databaseUrl: `postgresql://postgres@127.0.0.1:${await freePort()}/connector`, sealer });
  t.teardown(() => storage.close());
  await t.throwsAsync(storage.ping(), { instanceOf: StorageUnavailableError, message: /cannot reach the database server/ });
  await t.throwsAsync(storage.accounts.byEmail('a@example.com'), { instanceOf: StorageUnavailableError });
  await t.throwsAsync(storage.throttles.hit('k', new Date(), 1_000), { instanceOf: StorageUnavailableError });
});

test('PostgreSQL: a server that accepts but never answers fails after the connect timeout instead of hanging', async (t) => {
  const sockets = new Set<Socket>();
  const { server, port } = await listen((socket) => sockets.add(socket));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const storage = await openStorage({ databaseUrl: `postgresql://postgres@127.0.0.1:${port}/connector`, sealer, connectTimeoutMs: 300 });
  t.teardown(() => storage.close());
  t.timeout(20_000, 'a dead database must not hang a request');
  await t.throwsAsync(storage.ping(), { instanceOf: StorageUnavailableError });
  await t.throwsAsync(storage.bindings.byId('b1'), { instanceOf: StorageUnavailableError });
});

test('SQLite: a database locked by another process past the busy timeout -> StorageUnavailableError, then recovers', async (t) => {
  const db = await freshStorage('sqlite', t);
  const file = db.url.replace(/^file:/, '');
  const storage = await openStorage({ databaseUrl: db.url, sealer, busyTimeoutMs: 200 });
  t.teardown(() => storage.close());
  const holder = await new PrismaBetterSQLite3({ url: file }).connect();
  t.teardown(() => holder.dispose());
  await holder.executeScript('BEGIN EXCLUSIVE');
  await t.throwsAsync(storage.throttles.hit('k', new Date(), 60_000), { instanceOf: StorageUnavailableError, message: /locked/ });
  await holder.executeScript('COMMIT');
  t.is(await storage.throttles.hit('k', new Date(), 60_000), 1);
});

test('SQLite: a database that was never migrated -> StorageUnavailableError saying to run the migrations', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'storage-')), 'new.db');
  const storage = await openStorage({ databaseUrl: `file:${file}`, sealer });
  t.teardown(() => storage.close());
  await t.notThrowsAsync(storage.ping(), 'the file itself opens');
  await t.throwsAsync(storage.accounts.byEmail('a@example.com'), { instanceOf: StorageUnavailableError, message: /npm run db:migrate/ });
});

test('migrate() applies the migrations to a new SQLite database, and is idempotent', async (t) => {
  const url = `file:${join(mkdtempSync(join(tmpdir(), 'storage-')), 'sub', 'connector.db')}`;
  await migrate(url);
  await migrate(url);
  t.is(journalMode(url.replace(/^file:/, '')), 'wal', 'left in WAL mode, so the processes opening it next never switch it');
  const storage = await openStorage({ databaseUrl: url, sealer });
  t.teardown(() => storage.close());
  t.truthy(await storage.accounts.create({ id: 'a1', email: 'a@example.com', passwordHash: 'x' }));
});

// Switching a file to WAL while another connection holds the write lock is answered SQLITE_BUSY at once (no busy
// wait): four CLI processes opening a new file together met it. openStorage waits for the holder instead.
test('SQLite: opening a file still in rollback mode while another process writes to it waits, then opens it in WAL', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'storage-')), 'rollback.db');
  const holder = new Database(file);
  t.teardown(() => holder.close());
  holder.exec('CREATE TABLE held (n INTEGER)');
  t.is(journalMode(file), 'delete');
  holder.exec('BEGIN IMMEDIATE; INSERT INTO held VALUES (1)');
  const released = new Promise<void>((resolve) => setTimeout(() => resolve(holder.exec('COMMIT') && undefined), 300));
  const storage = await openStorage({ databaseUrl: `file:${file}`, sealer, busyTimeoutMs: 5_000 });
  t.teardown(() => storage.close());
  await released;
  t.is(journalMode(file), 'wal');
  t.false(holder.inTransaction, 'the holder committed first: the switch waited for it');
  await t.notThrowsAsync(storage.ping());
});

function journalMode(file: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('journal_mode', { simple: true });
  } finally {
    db.close();
  }
}

test('migrate() failing throws MigrationError carrying Prisma\'s output', async (t) => {
  const error = await t.throwsAsync(migrate(`postgresql://postgres@127.0.0.1:${await freePort()}/connector`), { instanceOf: MigrationError });
  t.regex(error!.output, /Can't reach database server/);
  t.regex(error!.message, /prisma migrate deploy failed/);
});

forEachBackend((backend, test) => {
  if (backend !== 'postgresql') return;
  test('connections killed by the server are replaced: the next call succeeds', async (t) => {
    const db = await freshStorage(backend, t);
    await db.storage.ping();
    await db.storage.accounts.create({ id: 'a1', email: 'a@example.com', passwordHash: 'x' });
    await db.raw(
      'SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    // The pool notices on the dead connection's error event; the first call may still hit it.
    const retryOnce = async <T>(call: () => Promise<T>) => {
      try {
        return await call();
      } catch (error) {
        t.true(error instanceof StorageUnavailableError, String(error));
        return call();
      }
    };
    t.like(await retryOnce(() => db.storage.accounts.byId('a1')), { email: 'a@example.com' });
    await t.notThrowsAsync(db.storage.ping());
  });
});
