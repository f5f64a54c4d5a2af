// Which account an OpenID identity signs in to (src/identity/linking.ts), on real storage.
import { IdentityLinker, NO_PASSWORD } from '../../src/identity/linking.js';
import { forEachBackend, freshStorage } from '../helpers/db.js';

const ISS = 'https://id.example.com';
const claims = (over: Partial<{ subject: string; email: string | null; emailVerified: boolean }> = {}) => ({
  issuer: ISS,
  subject: 'sub-1',
  email: 'Ann@Example.com',
  emailVerified: true,
  ...over,
});

forEachBackend((backend, test) => {
  test('two first sign-ins of one identity at once end in one account and one identity', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const linker = new IdentityLinker({ storage, localAccounts: true, providerName: 'Acme' });
    const results = await Promise.all([linker.accountFor(claims()), linker.accountFor(claims()), linker.accountFor(claims())]);
    t.is(new Set(results.map((r) => r.account.id)).size, 1);
    t.is(results.filter((r) => r.created).length, 1);
    const account = results[0]!.account;
    t.is(account.email, 'ann@example.com');
    t.is(account.passwordHash, NO_PASSWORD);
    t.is((await storage.identities.listByAccount(account.id)).length, 1);
  });

  test('an unverified email: never linked to an existing account; a new account only when local accounts are off', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const withLocal = new IdentityLinker({ storage, localAccounts: true, providerName: 'Acme' });
    await t.throwsAsync(withLocal.accountFor(claims({ emailVerified: false })), { message: /does not confirm/ });
    t.is(await storage.accounts.byEmail('ann@example.com'), null);
    const oidcOnly = new IdentityLinker({ storage, localAccounts: false, providerName: 'Acme' });
    const made = await oidcOnly.accountFor(claims({ emailVerified: false }));
    t.true(made.created);
    // Another identity with the same, unverified, address: not linked to that account.
    await t.throwsAsync(oidcOnly.accountFor(claims({ subject: 'sub-2', emailVerified: false })), { message: /cannot link them/ });
    t.is(await storage.identities.find(ISS, 'sub-2'), null);
    // Verified, it is.
    t.is((await oidcOnly.accountFor(claims({ subject: 'sub-2' }))).account.id, made.account.id);
    await t.throwsAsync(withLocal.accountFor(claims({ subject: 'sub-3', email: null })), { message: /did not tell us your email/ });
  });
});
