// The storage battery: the same tests on every backend (test/helpers/db.ts). Each test gets its own database.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { openStorage } from '../../src/storage/db.js';
import type { Binding, Storage } from '../../src/storage/types.js';
import { newBinding, T0 } from '../helpers/bindings.js';
import { forEachBackend, freshStorage, type Backend, type FreshStorage } from '../helpers/db.js';

const at = (ms: number) => new Date(T0.getTime() + ms);
const id = () => randomUUID();


async function account(storage: Storage, email = `${id()}@example.com`) {
  const created = await storage.accounts.create({ id: id(), email, passwordHash: 'scrypt$stand-in' });
  if (!created) throw new Error('account not created');
  return created;
}

/** A clock that moves only when told to. */
class ManualClock {
  constructor(private current: Date) {}
  now(): Date {
    return this.current;
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** The test's database through a storage whose row timestamps come from `clock`. */
async function clockedStorage(t: ExecutionContext, db: FreshStorage, clock: ManualClock): Promise<Storage> {
  const storage = await openStorage({ databaseUrl: db.url, sealer: db.sealer, clock, poolSize: 2, connectTimeoutMs: 30_000 });
  t.teardown(() => storage.close());
  return storage;
}

/** A second instance on the same database: its own client and connections. */
async function secondInstance(t: ExecutionContext, db: FreshStorage): Promise<Storage> {
  const other = await openStorage({ databaseUrl: db.url, sealer: db.sealer, poolSize: 4, connectTimeoutMs: 30_000 });
  t.teardown(() => other.close());
  return other;
}

forEachBackend((backend, test) => {
  // ---- accounts ---------------------------------------------------------------------------------------------------

  test('accounts: emails are stored lower-cased and unique regardless of case', async (t) => {
    const storage = await clockedStorage(t, await freshStorage(backend, t), new ManualClock(T0));
    const created = await account(storage, 'Ann.Smith@Example.COM');
    t.is(created.email, 'ann.smith@example.com');
    t.deepEqual(created.createdAt, T0, 'stamped by the storage clock');
    t.deepEqual(await storage.accounts.byEmail('ann.smith@example.com'), created);
    t.deepEqual(await storage.accounts.byEmail('ANN.SMITH@EXAMPLE.COM'), created);
    t.deepEqual(await storage.accounts.byId(created.id), created);
    t.is(await storage.accounts.create({ id: id(), email: 'ann.SMITH@example.com', passwordHash: 'x' }), null);
    t.is(await storage.accounts.byEmail('nobody@example.com'), null);
    t.is(await storage.accounts.byId(id()), null);
  });

  // ---- api keys ---------------------------------------------------------------------------------------------------

  test('api keys: found by hash while active; revoked only by their own account', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const owner = await account(storage);
    const stranger = await account(storage);
    const key = await storage.apiKeys.create({ id: id(), accountId: owner.id, name: 'CRM', prefix: 'mc_ab12', hash: `h-${id()}` });
    t.is(key.revokedAt, null);
    t.is(key.lastUsedAt, null);
    t.deepEqual(await storage.apiKeys.activeByHash(key.hash), key);
    t.deepEqual(await storage.apiKeys.listByAccount(owner.id), [key]);
    t.deepEqual(await storage.apiKeys.listByAccount(stranger.id), []);
    t.is(await storage.apiKeys.activeByHash('no-such-hash'), null);

    t.is(await storage.apiKeys.revoke(key.id, stranger.id, at(1_000)), null);
    t.truthy(await storage.apiKeys.activeByHash(key.hash), "another account's revoke changed nothing");
    const revoked = await storage.apiKeys.revoke(key.id, owner.id, at(2_000));
    t.deepEqual(revoked, { ...key, revokedAt: at(2_000) }, 'the revoked key comes back, with the hash to evict');
    t.is(await storage.apiKeys.activeByHash(key.hash), null);
    t.is(await storage.apiKeys.revoke(key.id, owner.id, at(3_000)), null, 'already revoked');
    t.is(await storage.apiKeys.revoke(id(), owner.id, at(3_000)), null, 'no such key');
    const [listed] = await storage.apiKeys.listByAccount(owner.id);
    t.deepEqual(listed?.revokedAt, at(2_000));
  });

  test('api keys: "last used" written by touch reads back the same through every read', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const owner = await account(storage);
    const key = await storage.apiKeys.create({ id: id(), accountId: owner.id, name: 'CRM', prefix: 'mc_cd34', hash: `h-${id()}` });
    await storage.apiKeys.touch(key.id, at(1_500));
    const touched = { ...key, lastUsedAt: at(1_500) };
    t.deepEqual(await storage.apiKeys.activeByHash(key.hash), touched);
    t.deepEqual(await storage.apiKeys.listByAccount(owner.id), [touched]);
    await storage.apiKeys.touch(key.id, at(2_500));
    t.deepEqual((await storage.apiKeys.activeByHash(key.hash))?.lastUsedAt, at(2_500));
    await t.notThrowsAsync(storage.apiKeys.touch(id(), at(3_000)), 'a key deleted since: nothing to write');
    await storage.apiKeys.revoke(key.id, owner.id, at(4_000));
    t.is(await storage.apiKeys.activeByHash(key.hash), null);
  });

  // ---- bindings ---------------------------------------------------------------------------------------------------

  test('bindings: create and read back by id and consumer key', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const input = newBinding({ nextAttemptAt: at(5_000) });
    const created = await storage.bindings.create(input);
    t.truthy(created);
    t.like(created, {
      id: input.id,
      consumerKey: input.consumerKey,
      storeBaseUrl: input.storeBaseUrl,
      state: 'pending',
      accountId: null,
      consumerSecret: input.consumerSecret,
      verifier: input.verifier,
      callbackAt: T0,
      requestToken: null,
      accessToken: null,
      step: null,
      stepAttempts: 0,
      nextAttemptAt: at(5_000),
      fix: null,
      version: 0,
    });
    t.deepEqual(await storage.bindings.byId(input.id), created);
    t.deepEqual(await storage.bindings.byConsumerKey(input.consumerKey), created);
    t.is(await storage.bindings.byId(id()), null);
    t.is(await storage.bindings.byConsumerKey('nope'), null);
  });

  test('bindings: a second binding with the same consumer key is refused with null', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const first = await storage.bindings.create(newBinding({ consumerKey: 'ck-same' }));
    t.is(await storage.bindings.create(newBinding({ consumerKey: 'ck-same' })), null);
    t.deepEqual(await storage.bindings.byConsumerKey('ck-same'), first);
    t.is((await storage.bindings.list()).length, 1);
  });

  test('bindings: secrets round-trip, and no column of the stored row holds one in clear', async (t) => {
    const db = await freshStorage(backend, t);
    const { storage } = db;
    const owner = await account(storage);
    const secrets = {
      consumerSecret: `consumer-secret-${id()}`,
      verifier: `callback-verifier-${id()}`,
      requestToken: { token: `rt-${id()}`, secret: `rts-${id()}`, verifier: `rtv-${id()}`, at: at(1_000) },
      accessToken: { token: `at-${id()}`, secret: `ats-${id()}`, verifier: `av-${id()}` },
    };
    const created = (await storage.bindings.create(newBinding({ consumerSecret: secrets.consumerSecret, verifier: secrets.verifier })))!;
    const updated = await storage.bindings.update(created.id, created.version, {
      accountId: owner.id,
      state: 'active',
      requestToken: secrets.requestToken,
      accessToken: secrets.accessToken,
      activatedAt: at(2_000),
    });
    const expected = { ...secrets };
    t.like(updated, expected);
    t.like(await storage.bindings.byId(created.id), expected);

    const plaintexts = [
      secrets.consumerSecret,
      secrets.verifier,
      secrets.requestToken.token,
      secrets.requestToken.secret,
      secrets.requestToken.verifier,
      secrets.accessToken.token,
      secrets.accessToken.secret,
    ];
    const [row] = await db.raw('SELECT * FROM "Binding"');
    t.truthy(row);
    for (const [column, value] of Object.entries(row!)) {
      for (const plain of plaintexts) t.false(String(value).includes(plain), `column ${column} holds a secret in clear`);
    }
    // Sealed, not dropped or hashed: every *Sealed column opens to its secret with the storage's key.
    const sealed = {
      consumerSecretSealed: secrets.consumerSecret,
      verifierSealed: secrets.verifier,
      requestTokenSealed: secrets.requestToken.token,
      requestTokenSecretSealed: secrets.requestToken.secret,
      requestVerifierSealed: secrets.requestToken.verifier,
      accessTokenSealed: secrets.accessToken.token,
      accessTokenSecretSealed: secrets.accessToken.secret,
    };
    for (const [column, plain] of Object.entries(sealed)) {
      t.is(db.sealer.open(String(row![column])), plain, column);
    }
  });

  test('bindings: a patch changes what it names, null clears, undefined keeps', async (t) => {
    const clock = new ManualClock(T0);
    const storage = await clockedStorage(t, await freshStorage(backend, t), clock);
    const b0 = (await storage.bindings.create(newBinding()))!;
    t.deepEqual([b0.createdAt, b0.updatedAt], [T0, T0]);
    t.false(b0.accessOutcomeUnknown);
    clock.advance(1_000);
    const b1 = (await storage.bindings.update(b0.id, 0, {
      requestToken: { token: 'rt', secret: 'rts', verifier: 'v1', at: at(1) },
      verifier: null,
      step: 'request_token',
      stepUntil: at(30_000),
      stepAttempts: 1,
      lastError: 'store timed out',
      lastErrorAt: at(2),
      fix: 'check_store',
    }))!;
    t.is(b1.version, 1);
    t.is(b1.verifier, null);
    t.is(b1.consumerSecret, b0.consumerSecret);
    t.like(b1, { step: 'request_token', stepAttempts: 1, fix: 'check_store', lastError: 'store timed out' });
    t.deepEqual(b1.updatedAt, at(1_000), 'stamped by the storage clock');
    t.deepEqual(b1.createdAt, T0);

    const b2 = (await storage.bindings.update(b1.id, 1, { step: null, stepUntil: null, lastError: null, fix: null }))!;
    t.like(b2, { version: 2, step: null, stepUntil: null, lastError: null, fix: null });
    t.deepEqual(b2.requestToken, b1.requestToken, 'undefined keeps the request token');

    const b3 = (await storage.bindings.update(b2.id, 2, { requestToken: null, consumerSecret: 'rotated-by-magento' }))!;
    t.is(b3.requestToken, null);
    t.is(b3.consumerSecret, 'rotated-by-magento');

    // A whole Binding spread into a patch does not move id, consumer key or version.
    const spread = { ...b3, consumerKey: 'other', version: 99, state: 'failed' as const };
    const b4 = (await storage.bindings.update(b3.id, 3, spread))!;
    t.like(b4, { id: b3.id, consumerKey: b3.consumerKey, version: 4, state: 'failed' });

    const flagged = (await storage.bindings.update(b4.id, 4, { accessOutcomeUnknown: true }))!;
    t.true(flagged.accessOutcomeUnknown);
    t.true((await storage.bindings.byId(b4.id))!.accessOutcomeUnknown, 'stored, not only returned');
    t.false((await storage.bindings.update(b4.id, 5, { accessOutcomeUnknown: false }))!.accessOutcomeUnknown);
  });

  test("bindings: byId and update (hot statements on the driver's rows) give exactly what Prisma's reads give, every field set", async (t) => {
    const { storage } = await freshStorage(backend, t);
    const owner = await account(storage);
    const created = (await storage.bindings.create(newBinding({ nextAttemptAt: at(5) })))!;
    const full = (await storage.bindings.update(created.id, created.version, {
      state: 'active',
      accountId: owner.id,
      storeBaseUrl: 'https://shop.example.com/',
      requestToken: { token: 'rt', secret: 'rts', verifier: 'rtv', at: at(1) },
      accessToken: { token: 'at', secret: 'ats', verifier: 'atv' },
      activatedAt: at(2),
      revokedAt: at(3),
      step: 'access_token',
      stepUntil: at(4),
      stepAttempts: 7,
      nextAttemptAt: at(6),
      lastError: 'an error',
      lastErrorAt: at(7),
      fix: 'check_store',
      accessOutcomeUnknown: true,
      signingProfile: 'laminas-double-encoding',
      profileDetectedAt: at(8),
      probeWarning: 'a warning',
      probeWarningAt: at(9),
      unavailableSince: at(10),
      unavailableReason: 'down',
      origin: 'credentials',
    }))!;
    t.truthy(full);
    const viaPrisma = await storage.bindings.byConsumerKey(created.consumerKey);
    t.deepEqual(full, viaPrisma, 'the update returns the row as Prisma reads it');
    t.deepEqual(await storage.bindings.byId(created.id), viaPrisma);
    for (const field of ['activatedAt', 'revokedAt', 'stepUntil', 'nextAttemptAt', 'lastErrorAt', 'profileDetectedAt', 'probeWarningAt', 'unavailableSince', 'createdAt', 'updatedAt'] as const) {
      t.true(full[field] instanceof Date, field);
    }
    t.true(full.requestToken!.at instanceof Date);
    t.is(typeof full.version, 'number');
    t.is(typeof full.stepAttempts, 'number');
    // Cleared again: nulls come back as nulls, false as false.
    const cleared = (await storage.bindings.update(full.id, full.version, { revokedAt: null, stepUntil: null, accessOutcomeUnknown: false, unavailableSince: null, requestToken: null }))!;
    t.deepEqual(cleared, await storage.bindings.byConsumerKey(created.consumerKey));
    t.like(cleared, { revokedAt: null, stepUntil: null, accessOutcomeUnknown: false, unavailableSince: null, requestToken: null });
  });

  test('bindings: modify() re-reads and re-applies the change when another writer moved the row on', async (t) => {
    const db = await freshStorage(backend, t);
    const { storage } = db;
    const other = await secondInstance(t, db);
    const b = (await storage.bindings.create(newBinding()))!;
    const seen: number[] = [];
    const done = await storage.bindings.modify(
      b.id,
      (cur) => {
        seen.push(cur.version);
        return { stepAttempts: cur.stepAttempts + 1 };
      },
      b,
    );
    t.deepEqual(seen, [0], 'the known row is tried first, without a read');
    t.like(done, { version: 1, stepAttempts: 1 });

    // A stale `known`: the other instance wrote meanwhile, so the change is computed again from the stored row.
    await other.bindings.update(b.id, 1, { lastError: 'from the other instance' });
    seen.length = 0;
    const merged = await storage.bindings.modify(b.id, (cur) => (seen.push(cur.version), { stepAttempts: cur.stepAttempts + 1 }), done!);
    t.deepEqual(seen, [1, 2]);
    t.like(merged, { version: 3, stepAttempts: 2, lastError: 'from the other instance' });

    const untouched = await storage.bindings.modify(b.id, () => null);
    t.like(untouched, { version: 3 }, 'null: the row is returned unchanged');
    t.is(await storage.bindings.modify(id(), () => ({ state: 'failed' })), null, 'no such binding');
  });

  // ---- refused callbacks ------------------------------------------------------------------------------------------

  test('callback refusals: newest per key, forgotten by age and beyond the count bound', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const refusal = (key: string, ms: number, message = `refused ${key}`) => ({
      consumerKeyHash: key,
      reason: 'private_store_url' as const,
      field: 'store_base_url',
      message,
      refusedAt: at(ms),
    });
    const bounds = (ms: number, max = 3) => ({ keepSince: at(ms - 60_000), max });
    await storage.callbackRefusals.record(refusal('a', 0, 'first'), bounds(0));
    await storage.callbackRefusals.record(refusal('a', 1_000, 'second'), bounds(1_000));
    t.deepEqual(await storage.callbackRefusals.latest('a', at(0)), refusal('a', 1_000, 'second'), 'one row per key, the newest');
    t.is(await storage.callbackRefusals.latest('a', at(1_001)), null, 'older than asked for');
    t.is(await storage.callbackRefusals.latest('b', at(0)), null);

    for (const [i, key] of ['b', 'c', 'd'].entries()) await storage.callbackRefusals.record(refusal(key, 2_000 + i), bounds(2_000 + i));
    t.is(await storage.callbackRefusals.latest('a', at(0)), null, 'beyond the newest 3: forgotten');
    for (const key of ['b', 'c', 'd']) t.truthy(await storage.callbackRefusals.latest(key, at(0)), key);

    await storage.callbackRefusals.record(refusal('e', 70_000), bounds(70_000, 100));
    for (const key of ['b', 'c', 'd']) t.is(await storage.callbackRefusals.latest(key, at(0)), null, `${key} aged out`);
    t.truthy(await storage.callbackRefusals.latest('e', at(0)));
  });

  test('bindings: an update at a stale version changes nothing and returns null', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const b = (await storage.bindings.create(newBinding()))!;
    t.truthy(await storage.bindings.update(b.id, 0, { state: 'request_token' }));
    t.is(await storage.bindings.update(b.id, 0, { state: 'failed' }), null);
    t.is(await storage.bindings.update(id(), 0, { state: 'failed' }), null, 'unknown id');
    t.like(await storage.bindings.byId(b.id), { state: 'request_token', version: 1 });
  });

  test('bindings: of two instances updating at the same version, exactly one wins', async (t) => {
    const db = await freshStorage(backend, t);
    const a = db.storage;
    const b = await secondInstance(t, db);
    for (let round = 0; round < 20; round++) {
      const binding = (await a.bindings.create(newBinding()))!;
      const results = await Promise.all([
        a.bindings.update(binding.id, 0, { step: 'request_token', lastError: 'a' }),
        b.bindings.update(binding.id, 0, { step: 'access_token', lastError: 'b' }),
        a.bindings.update(binding.id, 0, { state: 'failed', lastError: 'a2' }),
      ]);
      const winners = results.filter((r): r is Binding => r !== null);
      t.is(winners.length, 1, `round ${round}`);
      const stored = await b.bindings.byId(binding.id);
      t.is(stored?.version, 1);
      t.is(stored?.lastError, winners[0]!.lastError);
    }
  });

  test('bindings: listed by account, deleted only within the given account', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const owner = await account(storage);
    const stranger = await account(storage);
    const mine = (await storage.bindings.create(newBinding()))!;
    await storage.bindings.update(mine.id, 0, { accountId: owner.id });
    const orphan = (await storage.bindings.create(newBinding()))!;
    t.deepEqual((await storage.bindings.listByAccount(owner.id)).map((b) => b.id), [mine.id]);
    t.deepEqual((await storage.bindings.list()).map((b) => b.id).sort(), [mine.id, orphan.id].sort());

    t.false(await storage.bindings.delete(mine.id, stranger.id));
    t.truthy(await storage.bindings.byId(mine.id));
    t.false(await storage.bindings.delete(orphan.id, owner.id), 'an unowned binding is not "within" an account');
    t.true(await storage.bindings.delete(mine.id, owner.id));
    t.is(await storage.bindings.byId(mine.id), null);
    t.false(await storage.bindings.delete(mine.id, owner.id));
    t.true(await storage.bindings.delete(orphan.id), 'no account given: any binding');
    t.deepEqual(await storage.bindings.list(), []);
  });

  test('bindings: due() returns work whose time has come and that no live claim holds, oldest first', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const now = at(60_000);
    const make = async (label: string, nextAttemptAt: Date | null, stepUntil: Date | null) => {
      const b = (await storage.bindings.create(newBinding({ nextAttemptAt: nextAttemptAt ?? undefined })))!;
      if (stepUntil) await storage.bindings.update(b.id, 0, { step: 'request_token', stepUntil });
      return [label, b.id] as const;
    };
    const ids = Object.fromEntries([
      await make('due-late', at(50_000), null),
      await make('due-early', at(10_000), null),
      await make('due-exactly-now', now, null),
      await make('claim-expired', at(20_000), at(59_999)),
      await make('claim-ends-now', at(30_000), now),
      await make('claimed', at(10_000), at(90_000)),
      await make('not-yet', at(60_001), null),
      await make('nothing-to-do', null, null),
    ]);
    const due = await storage.bindings.due(now, 10);
    t.deepEqual(
      due.map((b) => b.id),
      ['due-early', 'claim-expired', 'claim-ends-now', 'due-late', 'due-exactly-now'].map((l) => ids[l]),
    );
    t.deepEqual((await storage.bindings.due(now, 2)).map((b) => b.id), [ids['due-early'], ids['claim-expired']]);
    // The plain columns as the scheduler needs them (read through the hot statements: dates come back as Dates).
    t.deepEqual(due[0]!.nextAttemptAt, at(10_000));
    t.true(due.every((b) => b.nextAttemptAt instanceof Date && typeof b.consumerKey === 'string' && b.storeBaseUrl.length > 0));
  });

  // ---- sessions ---------------------------------------------------------------------------------------------------

  test('sessions: live until they expire, gone once deleted', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const owner = await account(storage);
    const session = await storage.sessions.create({ id: `sha256-${id()}`, accountId: owner.id, expiresAt: at(3_600_000) });
    t.is(session.accountId, owner.id);
    t.deepEqual(await storage.sessions.live(session.id, T0), session);
    t.deepEqual(await storage.sessions.live(session.id, at(3_599_999)), session);
    t.is(await storage.sessions.live(session.id, at(3_600_000)), null, 'expired at expiresAt');
    t.is(await storage.sessions.live('unknown', T0), null);
    await storage.sessions.delete(session.id);
    t.is(await storage.sessions.live(session.id, T0), null);
    await t.notThrowsAsync(storage.sessions.delete(session.id), 'deleting twice is fine');
  });

  test('housekeeping: expired sessions and ended throttle windows are removed, live ones kept', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const owner = await account(storage);
    const old = await storage.sessions.create({ id: `sha256-${id()}`, accountId: owner.id, expiresAt: at(1_000) });
    const live = await storage.sessions.create({ id: `sha256-${id()}`, accountId: owner.id, expiresAt: at(3_600_000) });
    t.is(await storage.sessions.deleteExpired(at(1_000)), 1);
    t.is(await storage.sessions.live(old.id, T0), null);
    t.deepEqual(await storage.sessions.live(live.id, T0), live);

    const window = 60_000;
    await storage.throttles.hit('ip:a', T0, window);
    await storage.throttles.hit('ip:b', at(30_000), window);
    t.is(await storage.throttles.deleteExpired(at(60_000), window), 1, 'only the window that has ended');
    t.is(await storage.throttles.count('ip:a', at(60_000), window), 0);
    t.is(await storage.throttles.count('ip:b', at(60_000), window), 1);
  });

  test('tombstones: put and byKeyHash round-trip every field (the date as a Date); put refreshes', async (t) => {
    const { storage } = await freshStorage(backend, t);
    t.is(await storage.tombstones.byKeyHash('k'.repeat(64)), null);
    const tomb = { consumerKeyHash: 'k'.repeat(64), consumerSecretHash: 's'.repeat(64), accountId: null, deletedAt: at(5_000) };
    await storage.tombstones.put(tomb);
    t.deepEqual(await storage.tombstones.byKeyHash(tomb.consumerKeyHash), tomb);
    const again = { ...tomb, consumerSecretHash: 't'.repeat(64), deletedAt: at(9_000) };
    await storage.tombstones.put(again);
    const read = await storage.tombstones.byKeyHash(tomb.consumerKeyHash);
    t.deepEqual(read, again);
    t.true(read!.deletedAt instanceof Date);
  });

  // ---- throttles --------------------------------------------------------------------------------------------------

  test('throttles: counts within a fixed window, restarts after it, clears', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const window = 15 * 60_000;
    const key = 'email:ann@example.com';
    t.is(await storage.throttles.count(key, T0, window), 0);
    t.is(await storage.throttles.hit(key, T0, window), 1);
    t.is(await storage.throttles.hit(key, at(1_000), window), 2);
    t.is(await storage.throttles.hit(key, at(window - 1), window), 3, 'the window started at the first hit');
    t.is(await storage.throttles.count(key, at(window - 1), window), 3);
    t.is(await storage.throttles.count('ip:10.0.0.1', at(1_000), window), 0, 'keys are separate');

    t.is(await storage.throttles.count(key, at(window), window), 0, 'the window has ended');
    t.is(await storage.throttles.hit(key, at(window), window), 1, 'a new window starts with this hit');
    t.is(await storage.throttles.hit(key, at(window + 1), window), 2);
    t.is(await storage.throttles.count(key, at(2 * window - 1), window), 2);

    await storage.throttles.clear(key);
    t.is(await storage.throttles.count(key, at(window + 2), window), 0);
    t.is(await storage.throttles.hit(key, at(window + 2), window), 1);
    await t.notThrowsAsync(storage.throttles.clear('never-hit'));
  });

  test('throttles: concurrent hits from two instances are all counted, each seeing its own count', async (t) => {
    const db = await freshStorage(backend, t);
    const instances = [db.storage, await secondInstance(t, db)];
    const window = 60_000;
    const hits = (key: string, now: Date, n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => instances[i % 2]!.throttles.hit(key, now, window)));

    const first = await hits('ip:192.0.2.1', T0, 40);
    t.deepEqual([...first].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i + 1));
    t.is(await db.storage.throttles.count('ip:192.0.2.1', T0, window), 40);

    // Racing to restart an expired window: still every hit counted once, in the new window only.
    const later = at(window + 5);
    const second = await hits('ip:192.0.2.1', later, 30);
    t.deepEqual([...second].sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => i + 1));
    t.is(await db.storage.throttles.count('ip:192.0.2.1', later, window), 30);
  });

  test('throttles: hits from two separate processes are all counted', async (t) => {
    const db = await freshStorage(backend, t);
    const children = [startHitter(db.url, 25), startHitter(db.url, 25)];
    await Promise.all(children.map((c) => c.ready));
    for (const child of children) child.go();
    const [a, b] = await Promise.all(children.map((c) => c.results));
    t.deepEqual([...a!, ...b!].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i + 1));
    t.is(await db.storage.throttles.count('email:shared@example.com', T0, 60_000), 50);
  });

  // ---- the database itself ----------------------------------------------------------------------------------------

  test('pages: bindings (all, or one account\'s) and accounts in creation order, ties broken by id, each row once', async (t) => {
    const db = await freshStorage(backend, t);
    const { storage } = db;
    const a = await account(storage);
    const b = await account(storage);
    for (let i = 0; i < 7; i++) await storage.bindings.create(newBinding({ accountId: i % 2 ? a.id : b.id }));
    // Rows created in one instant (several instances, one millisecond): the id decides between them.
    await db.raw('UPDATE "Binding" SET "createdAt" = (SELECT MIN("createdAt") FROM "Binding") WHERE "consumerKey" IN (SELECT "consumerKey" FROM "Binding" ORDER BY "id" LIMIT 4)');
    const walk = async <T extends { id: string }>(read: (after: { createdAt: Date; id: string } | null) => Promise<{ items: T[]; next: { createdAt: Date; id: string } | null }>) => {
      const seen: T[] = [];
      let after: { createdAt: Date; id: string } | null = null;
      for (let pages = 0; pages < 20; pages++) {
        const page = await read(after);
        seen.push(...page.items);
        if (!page.next) return seen;
        t.true(page.items.length > 0, 'a page with a next is never empty');
        after = page.next;
      }
      throw new Error('no last page');
    };
    const inOrder = (rows: { createdAt: Date; id: string }[]) =>
      [...rows].sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)).map((r) => r.id);
    const all = await storage.bindings.list();
    const paged = await walk((after) => storage.bindings.page({ limit: 3, after }));
    t.deepEqual(paged.map((x) => x.id), inOrder(all));
    t.is(new Set(paged.map((x) => x.id)).size, 7);
    const ofA = await walk((after) => storage.bindings.page({ limit: 2, after, accountId: a.id }));
    t.deepEqual(ofA.map((x) => x.id), inOrder(all.filter((x) => x.accountId === a.id)));
    t.deepEqual((await storage.bindings.page({ limit: 7 })).next, null, 'exactly one full page: no next');

    for (let i = 0; i < 3; i++) await account(storage);
    await db.raw('UPDATE "Account" SET "createdAt" = (SELECT MIN("createdAt") FROM "Account")');
    const accounts = await walk((after) => storage.operatorAccounts.list({ limit: 2, after }));
    t.is(accounts.length, 5);
    t.deepEqual(accounts.map((x) => x.id), accounts.map((x) => x.id).sort(), 'one instant: by id');
  });

  test('ping() answers on a working database; provider is reported', async (t) => {
    const { storage } = await freshStorage(backend, t);
    await t.notThrowsAsync(storage.ping());
    t.is(storage.provider, backend satisfies Backend);
  });
});

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

/**
 * test/storage/fixtures/hit-throttle.ts in a child process: `ready` once its storage answers, `go()` starts its
 * `n` concurrent hits, `results` are what they returned.
 */
function startHitter(databaseUrl: string, n: number) {
  const child = spawn(
    process.execPath,
    [tsxCli, `${root}test/storage/fixtures/hit-throttle.ts`, databaseUrl, 'email:shared@example.com', T0.toISOString(), String(n)],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (what: string) => {
    const line = await lines.next();
    if (line.done) throw new Error(`hit-throttle.ts ended before printing ${what}`);
    return line.value;
  };
  const ready = next('ready');
  return {
    ready,
    go: () => child.stdin.write('go\n'),
    results: ready.then(() => next('its results')).then((line) => JSON.parse(line) as number[]),
  };
}
