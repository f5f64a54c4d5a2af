// Password resets and changes for local accounts. No Koa here.
//   request: the same answer whether or not the email has an account; throttled per email and per client address
//            (counted before anything else, so the limits say nothing about the account either); the lookup and the
//            mail happen after the answer, so its timing does not tell either;
//   link:    256 random bits, only its SHA-256 stored, valid 30 minutes, used once (a conditional update);
//   reset:   sets the password, ends every session of the account, clears its sign-in throttle;
//   change:  needs the current password (throttled per account), ends the account's other sessions.
import { normaliseEmail } from '../accounts/accounts.js';
import { hashPassword, passwordProblem, verifyPassword } from '../accounts/passwords.js';
import { randomToken, sha256 } from '../accounts/tokens.js';
import type { Clock } from '../clock.js';
import type { IdentityConfig } from '../config.js';
import type { Logger } from '../log.js';
import { PRODUCT_NAME, type Mailer } from '../mail/mailer.js';
import type { Account, Storage } from '../storage/types.js';
import { IdentityError } from './errors.js';

export const RESET_PATH = '/account/password/reset';

export interface PasswordResetsOptions {
  storage: Storage;
  clock: Clock;
  mailer: Mailer;
  logger: Logger;
  identity: Pick<IdentityConfig, 'resetLinkLifeMs' | 'resetRequestsPerEmail' | 'resetRequestsPerAddress' | 'passwordChangeFailures'>;
  throttleWindowMs: number;
  /** PUBLIC_URL, read when a link is made (tests learn the port after start). */
  publicUrl: () => string;
}

function checkNewPassword(password: string): void {
  const problem = passwordProblem(password); // the shared policy (accounts/passwords.ts)
  if (problem) throw new IdentityError('invalid_password', problem);
}

export class PasswordResets {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly o: PasswordResetsOptions) {}

  private throttled(what: string): IdentityError {
    const window = this.o.throttleWindowMs;
    return new IdentityError('throttled', `Too many ${what}. Wait ${Math.ceil(window / 60_000)} minutes and try again.`, {
      retryAfterSeconds: Math.ceil(window / 1000),
    });
  }

  /**
   * Asks for a reset link. Resolves the same way whether or not an account has this email (the caller shows
   * "if an account exists, we sent a link"); the mail goes out in the background.
   */
  async request(rawEmail: string, address: string): Promise<void> {
    const { storage, clock, identity, throttleWindowMs } = this.o;
    let email: string;
    try {
      email = normaliseEmail(rawEmail);
    } catch {
      throw new IdentityError('invalid_email', 'Enter a valid email address, like name@example.com.');
    }
    const now = clock.now();
    const [byAddress, byEmail] = await Promise.all([
      storage.throttles.hit(`reset:ip:${address}`, now, throttleWindowMs),
      storage.throttles.hit(`reset:email:${email}`, now, throttleWindowMs),
    ]);
    if (byAddress > identity.resetRequestsPerAddress || byEmail > identity.resetRequestsPerEmail) {
      throw this.throttled('password-reset requests');
    }
    const work = this.sendLink(email).catch((err: unknown) =>
      this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'password-reset mail failed'),
    );
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async sendLink(email: string): Promise<void> {
    const { storage, clock, identity, mailer } = this.o;
    const account = await storage.accounts.byEmail(email);
    if (!account) return; // nothing to send, and nothing to tell the asker
    const token = randomToken(32);
    const expiresAt = new Date(clock.now().getTime() + identity.resetLinkLifeMs);
    await storage.passwordResets.create({ tokenHash: sha256(token), accountId: account.id, expiresAt });
    const link = `${this.o.publicUrl()}${RESET_PATH}?token=${encodeURIComponent(token)}`;
    const minutes = Math.round(identity.resetLinkLifeMs / 60_000);
    await mailer.send({
      to: account.email,
      subject: `Reset your ${PRODUCT_NAME} password`,
      link,
      text: [
        'Hello,',
        '',
        `someone asked to reset the password of your ${PRODUCT_NAME} account (${account.email}), the account that`,
        'connects your Magento stores to your CRM.',
        '',
        `To choose a new password, open this link within ${minutes} minutes. It works once:`,
        '',
        link,
        '',
        'Setting a new password signs you out everywhere else.',
        '',
        'If it was not you, ignore this mail: your password stays as it is, and the link expires by itself. Nobody',
        'can use it without access to your mailbox. If such mails keep coming, tell whoever runs this service for you.',
        '',
        `-- ${PRODUCT_NAME}, ${this.o.publicUrl()}`,
        '',
      ].join('\n'),
    });
  }

  /** Waits for mails still being sent (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** Whether a link can still be used: what the reset page shows before asking for a new password. */
  async checkLink(token: string): Promise<void> {
    const reset = token && token.length <= 100 ? await this.o.storage.passwordResets.byTokenHash(sha256(token)) : null;
    this.explain(reset, this.o.clock.now());
  }

  private explain(reset: { usedAt: Date | null; expiresAt: Date } | null, now: Date): void {
    if (!reset) {
      throw new IdentityError('reset_link_invalid', 'This password-reset link is not valid. Copy the whole link from the mail, or ask for a new one.');
    }
    if (reset.usedAt) throw new IdentityError('reset_link_used', 'This password-reset link was already used. Ask for a new one if you still need it.');
    if (reset.expiresAt <= now) throw new IdentityError('reset_link_expired', 'This password-reset link has expired. Ask for a new one.');
  }

  /** Sets a new password through a reset link; returns the account (to say which one was changed). */
  async complete(token: string, newPassword: string): Promise<Account> {
    const { storage, clock } = this.o;
    await this.checkLink(token);
    checkNewPassword(newPassword);
    const hash = await hashPassword(newPassword); // slow: before the link is used, so a crash here leaves it usable
    const tokenHash = sha256(token);
    const now = clock.now();
    if (!(await storage.passwordResets.complete(tokenHash, now, hash))) {
      this.explain(await storage.passwordResets.byTokenHash(tokenHash), now);
      throw new IdentityError('reset_link_used', 'This password-reset link was already used. Ask for a new one if you still need it.');
    }
    const reset = await storage.passwordResets.byTokenHash(tokenHash);
    const account = reset && (await storage.accounts.byId(reset.accountId));
    if (!account) throw new IdentityError('reset_link_invalid', 'The account of this link no longer exists.');
    // The key Accounts.signIn counts attempts under: a merchant locked out by failed sign-ins can sign in at once.
    await storage.throttles.clear(`email:${account.email}`);
    this.o.logger.info({ accountId: account.id }, 'password reset');
    return account;
  }

  /**
   * Changes the password of a signed-in merchant. `sessionId` is the SHA-256 of the current session's cookie:
   * that session stays, every other one ends.
   */
  async change(account: Account, sessionId: string, current: string, next: string): Promise<void> {
    const { storage, clock, identity, throttleWindowMs } = this.o;
    const key = `pwchange:${account.id}`;
    if ((await storage.throttles.hit(key, clock.now(), throttleWindowMs)) > identity.passwordChangeFailures) {
      throw this.throttled('attempts with a wrong current password');
    }
    if (!(await verifyPassword(current, account.passwordHash))) {
      throw new IdentityError('wrong_password', 'Your current password is not right. Type it again (or use "Forgot password?").');
    }
    await storage.throttles.clear(key);
    checkNewPassword(next);
    await storage.credentials.setPasswordHash(account.id, await hashPassword(next));
    await storage.credentials.endSessions(account.id, sessionId);
    this.o.logger.info({ accountId: account.id }, 'password changed');
  }

  /** Housekeeping: removes expired links. */
  deleteExpired(): Promise<number> {
    return this.o.storage.passwordResets.deleteExpired(this.o.clock.now());
  }
}
