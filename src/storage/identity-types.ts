// Persistence for sign-in with an OpenID provider and for password resets and changes (issue 14). Kept apart from
// types.ts so the Storage interface grows by three fields only.
import type { Account } from './types.js';

export interface Identity {
  id: string;
  /** The provider's issuer identifier, exactly as its ID tokens carry it in `iss`. */
  issuer: string;
  /** The ID token's `sub`: stable per issuer, never reassigned (OpenID Connect Core §5.7). */
  subject: string;
  accountId: string;
  email: string | null;
  createdAt: Date;
}

export interface PasswordReset {
  /** SHA-256 of the link's token; the token itself is never stored. */
  tokenHash: string;
  accountId: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

export interface IdentityRepository {
  /** null when (issuer, subject) is already linked (to this or another account): the caller re-reads. */
  create(identity: Pick<Identity, 'id' | 'issuer' | 'subject' | 'accountId' | 'email'>): Promise<Identity | null>;
  /**
   * Creates an account and its first identity in one write (nothing half-made); null when the email is taken or
   * the identity is already linked.
   */
  createWithAccount(
    account: { id: string; email: string; passwordHash: string },
    identity: Pick<Identity, 'id' | 'issuer' | 'subject' | 'email'>,
  ): Promise<Account | null>;
  find(issuer: string, subject: string): Promise<Identity | null>;
  listByAccount(accountId: string): Promise<Identity[]>;
}

export interface PasswordResetRepository {
  create(reset: Pick<PasswordReset, 'tokenHash' | 'accountId' | 'expiresAt'>): Promise<PasswordReset>;
  byTokenHash(tokenHash: string): Promise<PasswordReset | null>;
  /**
   * Uses the link and sets the account's password in one transaction: the link must be unused and unexpired at
   * `now` (a conditional update, so of two submissions exactly one wins); every session of the account ends.
   * false (nothing written) when the link was used, has expired or does not exist.
   */
  complete(tokenHash: string, now: Date, passwordHash: string): Promise<boolean>;
  /** Housekeeping: removes links that expired before `now`; how many. */
  deleteExpired(now: Date): Promise<number>;
}

export interface CredentialRepository {
  /** Sets the account's password hash; false when there is no such account. */
  setPasswordHash(accountId: string, passwordHash: string): Promise<boolean>;
  /** Ends the account's sessions except the one with id `keepSessionId` (a session id is its cookie's SHA-256). */
  endSessions(accountId: string, keepSessionId?: string): Promise<number>;
}
