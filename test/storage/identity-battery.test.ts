// The storage battery for identities, password resets and credentials (issue 14), on every backend.
import { randomUUID } from 'node:crypto';
import type { Storage } from '../../src/storage/types.js';
import { forEachBackend, freshStorage } from '../helpers/db.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const id = () => randomUUID();
const ISS = 'https://id.example.com';

async function account(storage: Storage, email = `${id()}@example.com`) {
  const created = await storage.accounts.create({ id: id(), email, passwordHash: 'scrypt$old' });
  if (!created) throw new Error('account not created');
  return created;
}

forEachBackend((backend, test) => {
  test('identities: found by (issuer, subject); one subject per issuer, the same subject under another issuer is another identity', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const a = await account(storage);
    const b = await account(storage);
    const linked = await storage.identities.create({ id: id(), issuer: ISS, subject: 'sub-1', accountId: a.id, email: a.email });
    t.truthy(linked);
    t.deepEqual(await storage.identities.find(ISS, 'sub-1'), linked);
    t.is(await storage.identities.find(ISS, 'SUB-1'), null, 'subjects are compared exactly');
    t.is(await storage.identities.create({ id: id(), issuer: ISS, subject: 'sub-1', accountId: b.id, email: null }), null);
    t.truthy(await storage.identities.create({ id: id(), issuer: 'https://other.example.com', subject: 'sub-1', accountId: b.id, email: null }));
    t.deepEqual((await storage.identities.listByAccount(a.id)).map((i) => i.subject), ['sub-1']);
  });

  test('identities: an account and its first identity are created together, or not at all', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const made = await storage.identities.createWithAccount({ id: id(), email: 'New@Example.com', passwordHash: 'none:oidc' }, { id: id(), issuer: ISS, subject: 's', email: 'new@example.com' });
    t.is(made?.email, 'new@example.com');
    t.is((await storage.identities.find(ISS, 's'))?.accountId, made!.id);
    // Email taken: neither row.
    t.is(await storage.identities.createWithAccount({ id: id(), email: 'new@example.com', passwordHash: 'x' }, { id: id(), issuer: ISS, subject: 's2', email: null }), null);
    t.is(await storage.identities.find(ISS, 's2'), null);
    // Identity taken: no account left behind.
    t.is(await storage.identities.createWithAccount({ id: id(), email: 'other@example.com', passwordHash: 'x' }, { id: id(), issuer: ISS, subject: 's', email: null }), null);
    t.is(await storage.accounts.byEmail('other@example.com'), null);
  });

  test('password resets: completed once while unexpired; completing sets the hash and ends every session, in one transaction', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const a = await account(storage);
    const other = await account(storage);
    await storage.sessions.create({ id: id(), accountId: a.id, expiresAt: at(3600_000) });
    await storage.sessions.create({ id: id(), accountId: a.id, expiresAt: at(3600_000) });
    const keep = await storage.sessions.create({ id: id(), accountId: other.id, expiresAt: at(3600_000) });
    await storage.passwordResets.create({ tokenHash: 'h1', accountId: a.id, expiresAt: at(1800_000) });
    await storage.passwordResets.create({ tokenHash: 'h2', accountId: a.id, expiresAt: at(1800_000) });

    t.false(await storage.passwordResets.complete('nope', T0, 'scrypt$new'));
    t.false(await storage.passwordResets.complete('h2', at(1800_000), 'scrypt$late'), 'expired at expiresAt');
    t.is((await storage.accounts.byId(a.id))?.passwordHash, 'scrypt$old');
    // Two submissions at once: exactly one wins.
    const results = await Promise.all([storage.passwordResets.complete('h1', T0, 'scrypt$new'), storage.passwordResets.complete('h1', T0, 'scrypt$new')]);
    t.deepEqual(results.sort(), [false, true]);
    t.is((await storage.accounts.byId(a.id))?.passwordHash, 'scrypt$new');
    t.deepEqual((await storage.passwordResets.byTokenHash('h1'))?.usedAt, T0);
    t.is(await storage.sessions.live(keep.id, T0).then((s) => s?.accountId), other.id, 'another account\'s sessions stay');
    t.false(await storage.passwordResets.complete('h1', T0, 'scrypt$again'));
    t.is((await storage.accounts.byId(a.id))?.passwordHash, 'scrypt$new');
    t.is(await storage.passwordResets.deleteExpired(at(1800_000)), 2);
    t.is(await storage.passwordResets.byTokenHash('h2'), null);
  });

  test('credentials: set the hash; end an account\'s sessions except one', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const a = await account(storage);
    const s1 = await storage.sessions.create({ id: id(), accountId: a.id, expiresAt: at(3600_000) });
    const s2 = await storage.sessions.create({ id: id(), accountId: a.id, expiresAt: at(3600_000) });
    t.true(await storage.credentials.setPasswordHash(a.id, 'scrypt$changed'));
    t.false(await storage.credentials.setPasswordHash(id(), 'x'));
    t.is((await storage.accounts.byId(a.id))?.passwordHash, 'scrypt$changed');
    t.is(await storage.credentials.endSessions(a.id, s1.id), 1);
    t.truthy(await storage.sessions.live(s1.id, T0));
    t.is(await storage.sessions.live(s2.id, T0), null);
    t.is(await storage.credentials.endSessions(a.id), 1);
    t.is(await storage.sessions.live(s1.id, T0), null);
  });
});
