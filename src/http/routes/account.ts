// The merchant's account page (browser session): connected stores, the two URLs to paste into Magento, API keys.
import Router from '@koa/router';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context, Next } from 'koa';
import { PASSWORD_MIN } from '../../accounts/passwords.js';
import type { Account } from '../../storage/types.js';
import type { HttpServices } from '../context.js';
import { clearCookie, csrfToken, csrfValid, SESSION_COOKIE } from '../cookies.js';
import { field, readForm } from '../form.js';
import { signInOrUp, type FormKind } from '../sign-in.js';

// The pages' only scripts (the CSP allows scripts from our origin, none inline), read once.
const ASSETS = new Map(
  ['copy.js', 'popup.js'].map((name) => [name, readFileSync(fileURLToPath(new URL(`../../../views/assets/${name}`, import.meta.url)))]),
);


export function accountRoutes(s: HttpServices): Router {
  const router = new Router();
  const form = readForm(s.config.limits.callbackBodyBytes);

  function page(ctx: Context, status: number, template: string, data: Record<string, unknown>): void {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = s.render(template, { csrf: csrfToken(ctx, s.config, s.csrfKey), passwordMin: PASSWORD_MIN, ...data });
  }

  async function checkCsrf(ctx: Context, next: Next): Promise<void> {
    if (!csrfValid(ctx, s.csrfKey, field(ctx.state.form, 'csrf'))) {
      return page(ctx, 403, 'account-login.njk', { title: 'Sign in', error: 'This form expired. Please try again.' });
    }
    await next();
  }

  async function requireSession(ctx: Context, next: Next): Promise<void> {
    const account = await s.accounts.sessionAccount(ctx.cookies.get(SESSION_COOKIE));
    if (!account) {
      if (ctx.method === 'GET') return ctx.redirect('/account/login');
      return page(ctx, 401, 'account-login.njk', { title: 'Sign in', error: 'Your session has ended. Sign in again.' });
    }
    ctx.state.account = account;
    await next();
  }

  async function showAccount(ctx: Context, extra: Record<string, unknown> = {}, status = 200): Promise<void> {
    const account = ctx.state.account as Account;
    const [bindings, keys] = await Promise.all([
      s.stores.listStores(account.id),
      s.storage.apiKeys.listByAccount(account.id),
    ]);
    page(ctx, status, 'account.njk', {
      title: 'Your stores',
      mainClass: 'wide',
      email: account.email,
      stores: bindings,
      keys: keys.map((k) => ({ ...k, createdAt: k.createdAt.toISOString(), lastUsedAt: k.lastUsedAt?.toISOString() ?? null })),
      callbackUrl: `${s.config.publicUrl}/magento/callback`,
      identityUrl: `${s.config.publicUrl}/magento/identity`,
      apiUrl: `${s.config.publicUrl}/api/stores`,
      ...extra,
    });
  }

  function authenticate(kind: FormKind) {
    return async function authenticate(ctx: Context): Promise<void> {
      const result = await signInOrUp(s, ctx, kind);
      if (result.ok) return ctx.redirect('/account');
      page(ctx, result.status, 'account-login.njk', { title: 'Sign in', error: result.error, email: result.email, form: kind });
    };
  }

  router.get('/', (ctx) => ctx.redirect('/account'));
  router.get('/assets/:name', (ctx) => {
    const body = ASSETS.get(ctx.params.name!);
    if (!body) return; // falls through to 404
    ctx.type = 'application/javascript';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = body;
  });
  router.get('/account/login', async (ctx) => {
    // Already signed in: straight to the account page.
    if (await s.accounts.sessionAccount(ctx.cookies.get(SESSION_COOKIE))) return ctx.redirect('/account');
    page(ctx, 200, 'account-login.njk', { title: 'Sign in' });
  });
  router.post('/account/login', form, checkCsrf, authenticate('login'));
  router.post('/account/signup', form, checkCsrf, authenticate('signup'));
  router.post('/account/logout', form, checkCsrf, async (ctx) => {
    await s.accounts.endSession(ctx.cookies.get(SESSION_COOKIE));
    clearCookie(ctx, s.config, SESSION_COOKIE);
    ctx.redirect('/account/login');
  });
  router.get('/account', requireSession, (ctx) => showAccount(ctx));
  router.post('/account/api-keys', form, checkCsrf, requireSession, async (ctx) => {
    const { key } = await s.accounts.createApiKey((ctx.state.account as Account).id, field(ctx.state.form, 'name'));
    await showAccount(ctx, { newKey: key }, 201);
  });
  router.post('/account/api-keys/:id/revoke', form, checkCsrf, requireSession, async (ctx) => {
    const account = ctx.state.account as Account;
    const revoked = await s.storage.apiKeys.revoke(ctx.params.id!, account.id, s.clock.now());
    const key = (await s.storage.apiKeys.listByAccount(account.id)).find((k) => k.id === ctx.params.id);
    if (key) s.keys.forget(key.hash); // at once here; other instances within their cache TTL
    await showAccount(ctx, { notice: revoked ? 'The key is revoked: it stops working everywhere within a few seconds.' : 'No such key.' }, revoked ? 200 : 404);
  });
  return router;
}
