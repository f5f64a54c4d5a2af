// The sign-in and sign-up forms' one job, shared by the popup and the account page: read email and password, ask
// Accounts (with the client's address, for throttling), start a session and put the account on ctx.state. A refused
// attempt (wrong password, taken email, throttled) is not an error page: the form is shown again with the message
// and the email typed, by the route's own `showForm`.
import type { Middleware, ParameterizedContext } from 'koa';
import { AccountError, type Accounts } from '../../accounts/accounts.js';
import type { Config } from '../../config.js';
import type { Account } from '../../storage/types.js';
import { SESSION_COOKIE, setCookie } from '../cookies.js';
import { statusOf } from '../error-status.js';
import type { FormState } from '../state.js';
import { field } from './read-form.js';

export type FormKind = 'login' | 'signup';

export interface Refusal {
  kind: FormKind;
  status: number;
  error: string;
  email: string;
}

export interface SignInDeps {
  accounts: Accounts;
  config: Config;
}

type SignInState = FormState & { account: Account };

export function signInOrUp<S extends SignInState>(
  { accounts, config }: SignInDeps,
  kind: FormKind,
  showForm: (ctx: ParameterizedContext<S>, refusal: Refusal) => void,
): Middleware<S> {
  return async function signInOrUp(ctx, next) {
    const email = field(ctx.state.form, 'email') ?? '';
    const password = field(ctx.state.form, 'password') ?? '';
    let account: Account;
    try {
      account = kind === 'login' ? await accounts.signIn(email, password, ctx.ip) : await accounts.signUp(email, password, ctx.ip);
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      if (err.retryAfterSeconds) ctx.set('Retry-After', String(err.retryAfterSeconds));
      return showForm(ctx, { kind, status: statusOf(err.code), error: err.message, email });
    }
    const { token, expiresAt } = await accounts.startSession(account.id);
    setCookie(ctx, config, SESSION_COOKIE, token, expiresAt);
    ctx.state.account = account;
    await next();
  };
}
