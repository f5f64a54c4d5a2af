// Accounts, sign-in with throttling, browser sessions and API keys. No Koa here: the HTTP layer maps results to
// responses. Everything shared between instances (sessions, throttling counters) lives in the database.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Durations, Limits } from '../config.js';
import { ConnectorError } from '../errors.js';
import type { Account, ApiKey, Storage } from '../storage/types.js';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { newApiKey, randomToken, sha256 } from './tokens.js';

export type AccountErrorCode = 'invalid_email' | 'invalid_password' | 'email_taken' | 'bad_credentials' | 'throttled';

/** A sign-in or sign-up the forms show again with this message (and, when throttled, when to try again). */
export class AccountError extends ConnectorError<AccountErrorCode> {
  constructor(code: AccountErrorCode, message: string, retryAfterSeconds?: number) {
    super(code, message, { retryAfterSeconds });
  }
}

const Email = z.email().max(254);

export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!Email.safeParse(email).success) {
    throw new AccountError('invalid_email', 'Enter a valid email address, like name@example.com.');
  }
  return email;
}

function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new AccountError('invalid_password', problem);
}

export interface AccountsOptions {
  storage: Storage;
  clock: Clock;
  durations: Pick<Durations, 'sessionLifeMs' | 'throttleWindowMs'>;
  limits: Pick<Limits, 'loginFailuresPerEmail' | 'loginFailuresPerAddress' | 'signupsPerAddress'>;
}

export class Accounts {
  constructor(private readonly o: AccountsOptions) {}

  /**
   * Creates an account. With the client's address (the web forms; not the CLI), sign-up attempts are limited per
   * address and window, counted before anything else, so a script cannot mass-create accounts or probe which emails
   * are taken.
   */
  async signUp(rawEmail: string, password: string, address?: string): Promise<Account> {
    if (address !== undefined) {
      const { storage, clock, durations, limits } = this.o;
      const window = durations.throttleWindowMs;
      if ((await storage.throttles.hit(`signup:${address}`, clock.now(), window)) > limits.signupsPerAddress) {
        throw new AccountError(
          'throttled',
          `Too many sign-ups from your network. Wait ${Math.ceil(window / 60_000)} minutes and try again.`,
          Math.ceil(window / 1000),
        );
      }
    }
    const email = normaliseEmail(rawEmail);
    checkPassword(password);
    const account = await this.o.storage.accounts.create({
      id: randomUUID(),
      email,
      passwordHash: await hashPassword(password),
    });
    if (!account) {
      throw new AccountError('email_taken', 'An account with this email already exists: sign in instead.');
    }
    return account;
  }

  /**
   * Checks a password, throttled per client address and per email, in fixed windows. Both counters are raised
   * atomically in the database BEFORE the password is checked, so parallel guesses cannot all slip under the limit
   * while none has failed yet (the address counts attempts; the email's counter is cleared by a success). The email
   * is validated first, so a refused request writes at most one bounded counter row; and an address already over its
   * limit is refused before its email is counted, so guesses from a throttled address cannot lock a victim out.
   */
  async signIn(rawEmail: string, password: string, address: string): Promise<Account> {
    const { storage, clock, durations, limits } = this.o;
    const email = normaliseEmail(rawEmail);
    const now = clock.now();
    const window = durations.throttleWindowMs;
    const throttled = () =>
      new AccountError(
        'throttled',
        `Too many failed sign-ins. Wait ${Math.ceil(window / 60_000)} minutes and try again.`,
        Math.ceil(window / 1000),
      );
    if ((await storage.throttles.hit(`ip:${address}`, now, window)) > limits.loginFailuresPerAddress) throw throttled();
    const emailKey = `email:${email}`;
    if ((await storage.throttles.hit(emailKey, now, window)) > limits.loginFailuresPerEmail) throw throttled();
    const account = await storage.accounts.byEmail(email);
    const ok = await verifyPassword(password, account?.passwordHash ?? (await decoyHash()));
    if (!account || !ok) throw new AccountError('bad_credentials', 'That email and password do not match an account.');
    await storage.throttles.clear(emailKey);
    return account;
  }

  /** Removes expired sessions and ended throttling windows (run periodically; any instance may). */
  async housekeeping(): Promise<{ sessions: number; throttles: number }> {
    const now = this.o.clock.now();
    const [sessions, throttles] = await Promise.all([
      this.o.storage.sessions.deleteExpired(now),
      this.o.storage.throttles.deleteExpired(now, this.o.durations.throttleWindowMs),
    ]);
    return { sessions, throttles };
  }

  /** Starts a browser session; returns the cookie value (only its hash is stored). */
  async startSession(accountId: string): Promise<{ token: string; expiresAt: Date }> {
    const token = randomToken();
    const expiresAt = new Date(this.o.clock.now().getTime() + this.o.durations.sessionLifeMs);
    await this.o.storage.sessions.create({ id: sha256(token), accountId, expiresAt });
    return { token, expiresAt };
  }

  async sessionAccount(token: string | undefined): Promise<Account | null> {
    if (!token || token.length > 100) return null;
    const session = await this.o.storage.sessions.live(sha256(token), this.o.clock.now());
    return session ? this.o.storage.accounts.byId(session.accountId) : null;
  }

  async endSession(token: string | undefined): Promise<void> {
    if (token && token.length <= 100) await this.o.storage.sessions.delete(sha256(token));
  }

  /** Creates an API key; the key itself is returned once and never stored. */
  async createApiKey(accountId: string, name = 'API key'): Promise<{ key: string; record: ApiKey }> {
    const { key, hash, prefix } = newApiKey();
    const record = await this.o.storage.apiKeys.create({
      id: randomUUID(),
      accountId,
      name: name.trim().slice(0, 100) || 'API key',
      prefix,
      hash,
    });
    return { key, record };
  }

  /** The account's keys, newest first as storage lists them; revoked ones included (the page shows them as such). */
  listApiKeys(accountId: string): Promise<ApiKey[]> {
    return this.o.storage.apiKeys.listByAccount(accountId);
  }

  /**
   * Revokes one of the account's keys. Returns the key as it was (its `hash` is what an API-key cache must evict),
   * or null when the account has no such live key: another account's key is "none", never "forbidden".
   */
  async revokeApiKey(accountId: string, keyId: string): Promise<ApiKey | null> {
    const { storage, clock } = this.o;
    // The hash is not the revoke's to return (storage answers yes/no), so the key is found first; both are scoped
    // to the account, and the conditional revoke decides.
    const key = (await storage.apiKeys.listByAccount(accountId)).find((k) => k.id === keyId && k.revokedAt === null);
    if (!key) return null;
    return (await storage.apiKeys.revoke(keyId, accountId, clock.now())) ? key : null;
  }

  touchApiKey(id: string): Promise<void> {
    return this.o.storage.apiKeys.touch(id, this.o.clock.now());
  }

  async authenticateApiKey(key: string): Promise<ApiKey | null> {
    if (!key || key.length > 200) return null;
    return this.o.storage.apiKeys.activeByHash(sha256(key));
  }
}
