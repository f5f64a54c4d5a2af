// Password reset and change for local accounts (issue 14), and the switch that turns email+password off.
//   GET/POST /account/password/forgot   ask for a link (the same answer whether or not the email has an account)
//   GET/POST /account/password/reset    the link's page: choose a new password
//   GET/POST /account/password          change it while signed in (current password required)
// With LOCAL_ACCOUNTS=false every one of these, and the email+password forms of the popup and the account page,
// answers 404 with a page: this router is mounted before routes/magento.ts and routes/account.ts for that reason.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { PASSWORD_MIN } from '../../accounts/passwords.js';
import { sha256 } from '../../accounts/tokens.js';
import { IdentityError } from '../../identity/errors.js';
import { NO_PASSWORD } from '../../identity/linking.js';
import type { Account } from '../../storage/types.js';
import type { HttpServices } from '../context.js';
import { clearCookie, csrfToken, csrfValid, SESSION_COOKIE } from '../cookies.js';
import { field, readForm } from '../steps/read-form.js';
import { IDENTITY_ERROR_STATUS, IDENTITY_ERROR_TITLE } from './identity-status.js';

export function passwordRoutes(s: HttpServices): Router {
  const router = new Router();
  const form = readForm(s.config.limits.callbackBodyBytes);

  function page(ctx: Context, status: number, template: string, data: Record<string, unknown> = {}): void {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = s.render(template, { csrf: csrfToken(ctx, s.config, s.csrfKey), passwordMin: PASSWORD_MIN, requestId: ctx.state.requestId, ...data });
  }

  function problem(ctx: Context, err: IdentityError, extra: Record<string, unknown> = {}): void {
    if (err.retryAfterSeconds) ctx.set('Retry-After', String(err.retryAfterSeconds));
    page(ctx, IDENTITY_ERROR_STATUS[err.code], 'identity/problem.njk', { title: IDENTITY_ERROR_TITLE[err.code] ?? 'Something is not right', message: err.message, ...extra });
  }

  /** Runs `action`; an IdentityError re-renders the form (`onError`) instead of escaping as JSON. */
  async function orForm(ctx: Context, action: () => Promise<void>, onError: (err: IdentityError) => void): Promise<void> {
    try {
      await action();
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      if (err.retryAfterSeconds) ctx.set('Retry-After', String(err.retryAfterSeconds));
      onError(err);
    }
  }

  const localOff = () =>
    new IdentityError(
      'local_accounts_disabled',
      `Email and password sign-in is turned off here.${s.identity.oidc ? ` Use "Sign in with ${s.identity.oidc.name}" instead.` : ''}`,
    );

  // ---- LOCAL_ACCOUNTS=false: no email+password anywhere ----------------------------------------------------------
  if (!s.identity.localAccounts) {
    const refuse = (ctx: Context) => problem(ctx, localOff());
    router.post(['/account/login', '/account/signup', '/magento/identity/login', '/magento/identity/signup'], refuse);
    router.all(['/account/password', '/account/password/forgot', '/account/password/reset'], refuse);
    return router;
  }

  async function checkCsrf(ctx: Context, next: Next): Promise<void> {
    if (!csrfValid(ctx, s.csrfKey, field(ctx.state.form, 'csrf'))) {
      return problem(ctx, new IdentityError('oidc_flow_missing', 'This form expired or was not sent from this page. Go back, reload the page and submit it again.'), { title: 'Please try again' });
    }
    await next();
  }

  // ---- forgot -----------------------------------------------------------------------------------------------------

  const resetMinutes = Math.round(s.config.identity.resetLinkLifeMs / 60_000);

  router.get('/account/password/forgot', (ctx) => page(ctx, 200, 'password/forgot.njk', { title: 'Forgot password', email: typeof ctx.query.email === 'string' ? ctx.query.email.slice(0, 254) : '' }));
  router.post('/account/password/forgot', form, checkCsrf, async (ctx) => {
    const email = (field(ctx.state.form, 'email') ?? '').slice(0, 254);
    await orForm(
      ctx,
      async () => {
        await s.identity.resets.request(email, ctx.ip);
        page(ctx, 200, 'password/forgot.njk', { title: 'Check your mail', sent: true, email: email.trim(), minutes: resetMinutes });
      },
      (err) => page(ctx, IDENTITY_ERROR_STATUS[err.code], 'password/forgot.njk', { title: 'Forgot password', error: err.message, email }),
    );
  });

  // ---- the link ---------------------------------------------------------------------------------------------------

  const askAgain = { linkUrl: '/account/password/forgot', linkText: 'Ask for a new link' };

  router.get('/account/password/reset', async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    await orForm(
      ctx,
      async () => {
        await s.identity.resets.checkLink(token);
        page(ctx, 200, 'password/reset.njk', { title: 'Choose a new password', token });
      },
      (err) => problem(ctx, err, askAgain),
    );
  });
  router.post('/account/password/reset', form, checkCsrf, async (ctx) => {
    const token = field(ctx.state.form, 'token') ?? '';
    const password = field(ctx.state.form, 'password') ?? '';
    if (password !== (field(ctx.state.form, 'confirm') ?? '')) {
      return page(ctx, 400, 'password/reset.njk', { title: 'Choose a new password', token, error: 'The two passwords are not the same. Type them again.' });
    }
    await orForm(
      ctx,
      async () => {
        const account = await s.identity.resets.complete(token, password);
        // Every session of the account has ended, this browser's too if it had one.
        clearCookie(ctx, s.config, SESSION_COOKIE);
        page(ctx, 200, 'identity/problem.njk', {
          title: 'Password changed',
          ok: true,
          message: `The password of ${account.email} is changed, and every session of it has been signed out. Sign in with the new password.`,
          linkUrl: '/account/login',
          linkText: 'Sign in',
        });
      },
      (err) =>
        err.code === 'invalid_password'
          ? page(ctx, 400, 'password/reset.njk', { title: 'Choose a new password', token, error: err.message })
          : problem(ctx, err, askAgain),
    );
  });

  // ---- change while signed in -------------------------------------------------------------------------------------

  async function requireSession(ctx: Context, next: Next): Promise<void> {
    const account = await s.accounts.sessionAccount(ctx.cookies.get(SESSION_COOKIE));
    if (!account) {
      if (ctx.method === 'GET') return ctx.redirect('/account/login');
      return page(ctx, 401, 'account-login.njk', { title: 'Sign in', error: 'Your session has ended. Sign in again.' });
    }
    ctx.state.account = account;
    await next();
  }

  const changeView = (account: Account) => ({ title: 'Change password', email: account.email, hasPassword: account.passwordHash !== NO_PASSWORD });

  router.get('/account/password', requireSession, (ctx) => page(ctx, 200, 'password/change.njk', changeView(ctx.state.account as Account)));
  router.post('/account/password', form, checkCsrf, requireSession, async (ctx) => {
    const account = ctx.state.account as Account;
    const sessionId = sha256(ctx.cookies.get(SESSION_COOKIE)!);
    await orForm(
      ctx,
      async () => {
        await s.identity.resets.change(account, sessionId, field(ctx.state.form, 'current') ?? '', field(ctx.state.form, 'password') ?? '');
        page(ctx, 200, 'identity/problem.njk', {
          title: 'Password changed',
          ok: true,
          message: 'Your password is changed. Every other session of your account has been signed out; this one stays.',
          linkUrl: '/account',
          linkText: 'Back to your stores',
        });
      },
      (err) => page(ctx, IDENTITY_ERROR_STATUS[err.code], 'password/change.njk', { ...changeView(account), error: err.message }),
    );
  });

  return router;
}
