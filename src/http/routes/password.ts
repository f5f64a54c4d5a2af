// Password reset and change for local accounts (issue 14), and the switch that turns email+password off.
//   GET/POST /account/password/forgot   ask for a link (the same answer whether or not the email has an account)
//   GET/POST /account/password/reset    the link's page: choose a new password
//   GET/POST /account/password          change it while signed in (current password required)
// With LOCAL_ACCOUNTS=false every one of these, and the email+password forms of the popup and the account page,
// answers 404 with the error page: this router is mounted before the popup's and the account page's for that reason.
// A refused form (a wrong current password, a password too short, too many requests) is shown again with the
// message; a link that cannot be used, like every other failure, is the site's error page (error-handler.ts).
import Router from '@koa/router';
import type { Middleware, ParameterizedContext } from 'koa';
import { PASSWORD_MIN } from '../../accounts/passwords.js';
import { sha256 } from '../../accounts/tokens.js';
import { IdentityError } from '../../identity/errors.js';
import { NO_PASSWORD } from '../../identity/linking.js';
import type { Account } from '../../storage/types.js';
import type { HttpServices } from '../context.js';
import { clearCookie, csrfToken, SESSION_COOKIE } from '../cookies.js';
import { statusOf } from '../error-status.js';
import { sendPage } from '../pages.js';
import type { PageLink, SessionState } from '../state.js';
import { checkCsrf } from '../steps/check-csrf.js';
import { field, readForm } from '../steps/read-form.js';
import { requireSession, SIGN_IN_PATH } from '../steps/require-session.js';
import { ACCOUNT_PATH } from './account.js';

type Ctx = ParameterizedContext<SessionState>;

export function passwordRoutes(services: HttpServices): Router<SessionState> {
  const { config, render, csrfKey, accounts, identity } = services;
  const router = new Router<SessionState>();

  // ---- LOCAL_ACCOUNTS=false: no email+password anywhere ----------------------------------------------------------
  if (!identity.localAccounts) {
    const refuse: Middleware<SessionState> = function refuse() {
      throw new IdentityError(
        'local_accounts_disabled',
        `Email and password sign-in is turned off here.${identity.oidc ? ` Use "Sign in with ${identity.oidc.name}" instead.` : ''}`,
      );
    };
    router.post(['/account/login', '/account/signup', '/magento/identity/login', '/magento/identity/signup', '/magento/identity/:token/login'], refuse);
    router.all(['/account/password', '/account/password/forgot', '/account/password/reset'], refuse);
    return router;
  }

  const form = readForm(config.limits.callbackBodyBytes);
  const csrf = checkCsrf(csrfKey);
  const session = requireSession(accounts);

  function page(ctx: Ctx, template: string, data: Record<string, unknown>, status = 200): void {
    sendPage(ctx, render, template, { csrf: csrfToken(ctx, config, csrfKey), passwordMin: PASSWORD_MIN, ...data }, status);
  }

  /** Runs `action`; an IdentityError `showForm` takes (it returns true) is the form again, anything else the error page. */
  async function orForm(ctx: Ctx, action: () => Promise<void>, showForm: (err: IdentityError, status: number) => boolean): Promise<void> {
    try {
      await action();
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      if (err.retryAfterSeconds) ctx.set('Retry-After', String(err.retryAfterSeconds));
      if (!showForm(err, statusOf(err.code))) throw err;
    }
  }

  /** Where a failed page leads: the error page links there. */
  function retryAt(link: PageLink): Middleware<SessionState> {
    return async function retryAt(ctx, next) {
      ctx.state.retry = link;
      await next();
    };
  }

  // ---- forgot -----------------------------------------------------------------------------------------------------

  const resetMinutes = Math.round(config.identity.resetLinkLifeMs / 60_000);

  router.get('/account/password/forgot', (ctx) =>
    page(ctx, 'password/forgot.njk', { title: 'Forgot password', email: typeof ctx.query.email === 'string' ? ctx.query.email.slice(0, 254) : '' }),
  );
  router.post('/account/password/forgot', form, csrf, async (ctx) => {
    const email = (field(ctx.state.form, 'email') ?? '').slice(0, 254);
    await orForm(
      ctx,
      async () => {
        await identity.resets.request(email, ctx.ip);
        page(ctx, 'password/forgot.njk', { title: 'Check your mail', sent: true, email: email.trim(), minutes: resetMinutes });
      },
      (err, status) => {
        page(ctx, 'password/forgot.njk', { title: 'Forgot password', error: err.message, email }, status);
        return true;
      },
    );
  });

  // ---- the link ---------------------------------------------------------------------------------------------------

  const askAgain = retryAt({ url: '/account/password/forgot', text: 'Ask for a new link' });
  const choose = (token: string, error?: string) => ({ title: 'Choose a new password', token, ...(error && { error }) });

  router.get('/account/password/reset', askAgain, async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    await identity.resets.checkLink(token);
    page(ctx, 'password/reset.njk', choose(token));
  });
  router.post('/account/password/reset', askAgain, form, csrf, async (ctx) => {
    const token = field(ctx.state.form, 'token') ?? '';
    const password = field(ctx.state.form, 'password') ?? '';
    if (password !== (field(ctx.state.form, 'confirm') ?? '')) {
      return page(ctx, 'password/reset.njk', choose(token, 'The two passwords are not the same. Type them again.'), 400);
    }
    await orForm(
      ctx,
      async () => {
        const account = await identity.resets.complete(token, password);
        // Every session of the account has ended, this browser's too if it had one.
        clearCookie(ctx, config, SESSION_COOKIE);
        page(ctx, 'message.njk', {
          title: 'Password changed',
          ok: true,
          message: `The password of ${account.email} is changed, and every session of it has been signed out. Sign in with the new password.`,
          link: { url: SIGN_IN_PATH, text: 'Sign in' },
        });
      },
      // A password too short is this form's to say; a link that cannot be used is the error page's.
      (err, status) => {
        if (err.code !== 'invalid_password') return false;
        page(ctx, 'password/reset.njk', choose(token, err.message), status);
        return true;
      },
    );
  });

  // ---- change while signed in -------------------------------------------------------------------------------------

  const changeView = (account: Account) => ({ title: 'Change password', email: account.email, hasPassword: account.passwordHash !== NO_PASSWORD });

  router.get('/account/password', session, (ctx) => page(ctx, 'password/change.njk', changeView(ctx.state.account)));
  router.post('/account/password', form, csrf, session, async (ctx) => {
    const { account } = ctx.state;
    // The session that stays: requireSession found it by this cookie.
    const sessionId = sha256(ctx.cookies.get(SESSION_COOKIE)!);
    await orForm(
      ctx,
      async () => {
        await identity.resets.change(account, sessionId, field(ctx.state.form, 'current') ?? '', field(ctx.state.form, 'password') ?? '');
        page(ctx, 'message.njk', {
          title: 'Password changed',
          ok: true,
          message: 'Your password is changed. Every other session of your account has been signed out; this one stays.',
          link: { url: ACCOUNT_PATH, text: 'Back to your stores' },
        });
      },
      (err, status) => {
        page(ctx, 'password/change.njk', { ...changeView(account), error: err.message }, status);
        return true;
      },
    );
  });

  return router;
}
