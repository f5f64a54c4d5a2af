// The callback path's hot statements on SQLite run on the connection Prisma's adapter opened
// (src/storage/prisma/hot-sql.ts). Prisma's batch transactions run on that same connection between BEGIN and COMMIT
// over several turns of the promise queue: a hot statement must never become part of one (it would be undone with
// it, after its callback was acknowledged). Real SQLite, a migrated database.
import test from 'ava';
import Database from 'better-sqlite3';
import { sqliteDriverSql, type HotSql } from '../../src/storage/prisma/hot-sql.js';
import { sqliteFileFromUrl } from '../../src/storage/database-url.js';
import { freshDatabase, freshStorage } from '../helpers/db.js';

async function migratedFile(): Promise<{ db: Database.Database; drop: () => Promise<void> }> {
  const database = await freshDatabase('sqlite');
  const db = new Database(sqliteFileFromUrl(database.url));
  db.defaultSafeIntegers(true);
  return { db, drop: async () => { db.close(); await database.drop(); } };
}

const unused: HotSql = {
  rows: () => Promise.reject(new Error('the fallback was used')),
  run: () => Promise.reject(new Error('the fallback was used')),
};

test('a hot write waits while a transaction is open on the connection, and is not undone by its rollback', async (t) => {
  const { db, drop } = await migratedFile();
  t.teardown(drop);
  const sql = sqliteDriverSql(() => db, unused);
  const at = new Date('2026-12-01T10:00:00.000Z');
  db.exec('BEGIN');
  db.exec(`INSERT INTO "LoginThrottle" ("key", "windowStart", "failures") VALUES ('inside', '2026-12-01T10:00:00.000+00:00', 1)`);
  let done = false;
  const write = sql.run`INSERT INTO "LoginThrottle" ("key", "windowStart", "failures") VALUES (${'hot'}, ${at}, 1)`.then((n) => {
    done = true;
    return n;
  });
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.false(done, 'the hot write waits for the open transaction');
  db.exec('ROLLBACK');
  t.is(await write, 1);
  const keys = db.prepare(`SELECT "key", "windowStart" FROM "LoginThrottle" ORDER BY "key"`).all() as { key: string; windowStart: string }[];
  t.deepEqual(keys, [{ key: 'hot', windowStart: '2026-12-01T10:00:00.000+00:00' }], 'written on its own, dates bound as the adapter binds them');
});

test('rows: values bound as the adapter binds them; before the connection exists, the fallback serves', async (t) => {
  const { db, drop } = await migratedFile();
  t.teardown(drop);
  let connected: Database.Database | undefined;
  const fallbackCalls: string[] = [];
  const fallback: HotSql = {
    rows: async (strings) => (fallbackCalls.push(strings.join('?')), []),
    run: async (strings) => (fallbackCalls.push(strings.join('?')), 0),
  };
  const sql = sqliteDriverSql(() => connected, fallback);
  const select = (v: boolean) => sql.rows<{ v: number; at: string }>`SELECT ${v} AS "v", ${new Date('2026-12-01T10:00:00.000Z')} AS "at"`;
  t.deepEqual(await select(true), [], 'not connected yet: the fallback answers');
  t.is(fallbackCalls.length, 1);
  connected = db;
  // Bound as the adapter binds them: booleans as 1 / 0, dates as ISO 8601 with "+00:00".
  t.deepEqual(await select(true), [{ v: 1, at: '2026-12-01T10:00:00.000+00:00' }]);
  t.deepEqual(await select(false), [{ v: 0, at: '2026-12-01T10:00:00.000+00:00' }]);
  t.is(fallbackCalls.length, 1);
});

test('what a hot statement writes, Prisma reads back (the throttle window written raw, counted through the model API)', async (t) => {
  const { storage } = await freshStorage('sqlite', t);
  const now = new Date('2026-12-01T10:00:00.000Z');
  t.is(await storage.throttles.hit('k', now, 60_000), 1);
  t.is(await storage.throttles.hit('k', now, 60_000), 2);
  // count() reads through Prisma's model API: the window start written by the hot statement parses as its date.
  t.is(await storage.throttles.count('k', new Date(now.getTime() + 1_000), 60_000), 2);
  t.is(await storage.throttles.count('k', new Date(now.getTime() + 60_000), 60_000), 0);
});

test('group commit: writes of one turn commit together; a failing one fails alone, the others are stored', async (t) => {
  const { db, drop } = await migratedFile();
  t.teardown(drop);
  db.pragma('foreign_keys = ON');
  const sql = sqliteDriverSql(() => db, unused);
  const at = new Date('2026-12-01T10:00:00.000Z');
  const hit = (key: string) => sql.rows<{ failures: bigint }>`
    INSERT INTO "LoginThrottle" ("key", "windowStart", "failures") VALUES (${key}, ${at}, 1)
    ON CONFLICT ("key") DO UPDATE SET "failures" = "LoginThrottle"."failures" + 1 RETURNING "failures"`;
  // A timeline event of a binding that does not exist: the foreign key refuses it.
  const orphan = sql.run`INSERT INTO "BindingEvent" ("id", "bindingId", "at", "kind", "detail") VALUES (${'e1'}, ${'no-such-binding'}, ${at}, ${'detection'}, ${'x'})`;
  const results = await Promise.allSettled([hit('a'), orphan, hit('a'), hit('b')]);
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  t.deepEqual((results[2] as PromiseFulfilledResult<{ failures: bigint }[]>).value, [{ failures: 2n }], 'a later write of the group sees the earlier ones');
  t.regex(String((results[1] as PromiseRejectedResult).reason), /FOREIGN KEY/);
  t.false(db.inTransaction, 'the group was committed');
  const rows = db.prepare(`SELECT "key", "failures" FROM "LoginThrottle" ORDER BY "key"`).all();
  t.deepEqual(rows, [{ key: 'a', failures: 2n }, { key: 'b', failures: 1n }]);
  t.is((db.prepare(`SELECT COUNT(*) AS n FROM "BindingEvent"`).get() as { n: bigint }).n, 0n);
});

test('group commit: a COMMIT that fails stores nothing of the group and fails every write in it', async (t) => {
  const { db, drop } = await migratedFile();
  t.teardown(drop);
  db.pragma('foreign_keys = ON');
  // A deferred foreign key is checked at COMMIT: the whole group's commit fails on it.
  db.exec(`CREATE TABLE "Parent" ("id" TEXT PRIMARY KEY); CREATE TABLE "Child" ("id" TEXT PRIMARY KEY, "parentId" TEXT REFERENCES "Parent" ("id") DEFERRABLE INITIALLY DEFERRED)`);
  const sql = sqliteDriverSql(() => db, unused);
  const results = await Promise.allSettled([
    sql.run`INSERT INTO "Parent" ("id") VALUES (${'p1'})`,
    sql.run`INSERT INTO "Child" ("id", "parentId") VALUES (${'c1'}, ${'missing'})`,
  ]);
  t.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  t.false(db.inTransaction);
  t.is((db.prepare(`SELECT COUNT(*) AS n FROM "Parent"`).get() as { n: bigint }).n, 0n, 'nothing of the group was stored');
});
