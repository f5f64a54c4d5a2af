// The sign-in and sign-up forms' one job, shared by the popup and the account page: read email and password, ask
// Accounts (with the client's address, for throttling), and start a session. An AccountError comes back as what the
// page needs to show the form again: the status, the message and the email typed.
import type { Context } from 'koa';
import { AccountError } from '../accounts/accounts.js';
import type { Account } from '../storage/types.js';
import type { HttpServices } from './context.js';
import { SESSION_COOKIE, setCookie } from './cookies.js';
import { ACCOUNT_ERROR_STATUS } from './errors.js';
import { field } from './form.js';

export type FormKind = 'login' | 'signup';

export type SignInResult = { ok: true; account: Account } | { ok: false; status: number; error: string; email: string };

export async function signInOrUp(s: HttpServices, ctx: Context, kind: FormKind): Promise<SignInResult> {
  const email = field(ctx.state.form, 'email') ?? '';
  const password = field(ctx.state.form, 'password') ?? '';
  let account: Account;
  try {
    account = kind === 'login' ? await s.accounts.signIn(email, password, ctx.ip) : await s.accounts.signUp(email, password, ctx.ip);
  } catch (err) {
    if (!(err instanceof AccountError)) throw err;
    if (err.retryAfterSeconds) ctx.set('Retry-After', String(err.retryAfterSeconds));
    return { ok: false, status: ACCOUNT_ERROR_STATUS[err.code], error: err.message, email };
  }
  const { token, expiresAt } = await s.accounts.startSession(account.id);
  setCookie(ctx, s.config, SESSION_COOKIE, token, expiresAt);
  return { ok: true, account };
}
