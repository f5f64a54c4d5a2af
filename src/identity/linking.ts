// Which account an OpenID identity signs in to. An identity is found by (issuer, sub) only, so a later change of
// email at the provider never moves it to another account. The first sign-in
//   - links to the account with the same email when the provider says that email is verified;
//   - otherwise creates an account with that email, when the email is verified, or when local accounts are off
//     (an unverified address must not claim an email that a password reset could later hand to its real owner);
//   - never links an unverified email to an existing account.
import { randomUUID } from 'node:crypto';
import { normaliseEmail } from '../accounts/accounts.js';
import type { Account, Storage } from '../storage/types.js';
import { IdentityError } from './errors.js';

/** The password hash of an account made by an OpenID sign-in: no password verifies against it (not scrypt). */
export const NO_PASSWORD = 'none:oidc';

export interface VerifiedClaims {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
}

export interface LinkerOptions {
  storage: Storage;
  localAccounts: boolean;
  /** The provider's name as the button says it, for messages. */
  providerName: string;
}

export class IdentityLinker {
  constructor(private readonly o: LinkerOptions) {}

  /**
   * `mayCreate: false` (an account's own activation popup, issue 13: sign-up is not offered there): an identity that
   * neither is linked nor links to an existing account creates nothing and is refused (`no_account`).
   */
  async accountFor(claims: VerifiedClaims, options: { mayCreate?: boolean } = {}): Promise<{ account: Account; created: boolean; linked: boolean }> {
    // Two attempts: a concurrent first sign-in of the same identity (or a sign-up of the same email) may win the
    // race for the unique row; the second pass finds what it wrote.
    for (let attempt = 0; ; attempt++) {
      const result = await this.once(claims, options.mayCreate ?? true);
      if (result || attempt >= 1) {
        if (!result) throw new Error('identity link raced twice');
        return result;
      }
    }
  }

  private async once(claims: VerifiedClaims, mayCreate: boolean): Promise<{ account: Account; created: boolean; linked: boolean } | null> {
    const { storage, localAccounts, providerName } = this.o;
    const known = await storage.identities.find(claims.issuer, claims.subject);
    if (known) {
      const account = await storage.accounts.byId(known.accountId);
      if (account) return { account, created: false, linked: false };
    }
    if (!claims.email) {
      throw new IdentityError('email_missing', `${providerName} did not tell us your email address, which your account here needs. Ask your administrator to release the "email" claim to this application.`);
    }
    let email: string;
    try {
      email = normaliseEmail(claims.email);
    } catch {
      throw new IdentityError('email_missing', `${providerName} sent an email address we cannot use ("${claims.email.slice(0, 100)}").`);
    }
    const existing = await storage.accounts.byEmail(email);
    if (existing) {
      if (!claims.emailVerified) {
        throw new IdentityError(
          'email_unverified',
          `An account with ${email} exists here, but ${providerName} does not confirm that this address is verified, so we cannot link them. Verify your email address with ${providerName} and try again, or sign in with your email and password.`,
        );
      }
      const identity = await storage.identities.create({ id: randomUUID(), issuer: claims.issuer, subject: claims.subject, accountId: existing.id, email });
      return identity ? { account: existing, created: false, linked: true } : null;
    }
    if (!mayCreate) {
      throw new IdentityError(
        'no_account',
        `No account here belongs to your ${providerName} sign-in (${email}), and this activation link belongs to an existing account. Sign in with that account, or ask its owner to add you.`,
      );
    }
    if (!claims.emailVerified && localAccounts) {
      throw new IdentityError('email_unverified', `${providerName} does not confirm that ${email} is verified. Verify your email address with ${providerName} and try again.`);
    }
    const account = await storage.identities.createWithAccount(
      { id: randomUUID(), email, passwordHash: NO_PASSWORD },
      { id: randomUUID(), issuer: claims.issuer, subject: claims.subject, email },
    );
    return account ? { account, created: true, linked: true } : null;
  }
}
