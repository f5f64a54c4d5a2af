// The account pages need a signed-in merchant: the session cookie's account goes on ctx.state.account. Without one a
// page (GET) sends the browser to the sign-in page; a form (POST) cannot be replayed after signing in, so it says so.
import type { Middleware } from 'koa';
import type { Accounts } from '../../accounts/accounts.js';
import type { Account } from '../../storage/types.js';
import { SESSION_COOKIE } from '../cookies.js';
import { HttpError } from '../errors.js';
import type { BaseState } from '../state.js';

export const SIGN_IN_PATH = '/account/login';

export function requireSession(accounts: Accounts): Middleware<BaseState & { account: Account }> {
  return async function requireSession(ctx, next) {
    const account = await accounts.sessionAccount(ctx.cookies.get(SESSION_COOKIE));
    if (!account) {
      if (ctx.method === 'GET' || ctx.method === 'HEAD') return ctx.redirect(SIGN_IN_PATH);
      throw new HttpError('session_required', 'Your session has ended. Sign in again.', {
        fix: 'Sign in on the account page, then do this again.',
      });
    }
    ctx.state.account = account;
    await next();
  };
}
