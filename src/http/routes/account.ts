// The merchant's account pages (browser session): connected stores (and disconnecting one), the two URLs to paste
// into Magento, API keys. Every form answers with a redirect (POST-redirect-GET): what it did is shown once by the
// page it redirects to (flash.ts), so a reload repeats nothing.
import Router from '@koa/router';
import type { Middleware, ParameterizedContext } from 'koa';
import { PASSWORD_MIN } from '../../accounts/passwords.js';
import { DOCTOR_CACHE_TTL_MS } from '../../doctor/store-doctor.js';
import { NO_PASSWORD } from '../../identity/linking.js';
import type { HttpServices } from '../context.js';
import { clearCookie, csrfToken, SESSION_COOKIE } from '../cookies.js';
import { HttpError } from '../errors.js';
import type { FlashMessages } from '../flash.js';
import { sendPage } from '../pages.js';
import type { SessionState } from '../state.js';
import { checkCsrf } from '../steps/check-csrf.js';
import { field, readForm } from '../steps/read-form.js';
import { requireSession, SIGN_IN_PATH } from '../steps/require-session.js';
import { signInOrUp, type FormKind, type Refusal } from '../steps/sign-in-or-up.js';

export const ACCOUNT_PATH = '/account';
/** Timeline steps the account page shows per store. */
const STEPS_SHOWN = 5;

export interface AccountRouteDeps {
  flash: FlashMessages;
}

export function accountRoutes(services: HttpServices, { flash }: AccountRouteDeps): Router<SessionState> {
  const { config, render, csrfKey, accounts, keys, stores, availability, storeViews, health, activation } = services;
  const router = new Router<SessionState>();
  const form = readForm(config.limits.callbackBodyBytes);
  const csrf = checkCsrf(csrfKey);
  const session = requireSession(accounts);

  function page(ctx: ParameterizedContext<SessionState>, template: string, data: Record<string, unknown>, status = 200): void {
    sendPage(ctx, render, template, { csrf: csrfToken(ctx, config, csrfKey), passwordMin: PASSWORD_MIN, ...data }, status);
  }

  /** Answers a form: back to the account page, which shows `notice` (or the new key) once. */
  function backToAccount(ctx: ParameterizedContext<SessionState>, shown: Parameters<FlashMessages['set']>[1]): void {
    flash.set(ctx, shown);
    ctx.status = 303;
    ctx.redirect(ACCOUNT_PATH);
  }

  const showLogin = (ctx: ParameterizedContext<SessionState>, refusal?: Refusal) =>
    page(ctx, 'account-login.njk', { title: 'Sign in', ...(refusal && { error: refusal.error, email: refusal.email, form: refusal.kind }) }, refusal?.status);

  const showAccount: Middleware<SessionState> = async function showAccount(ctx) {
    const { account } = ctx.state;
    const [storeList, keyList, urls] = await Promise.all([
      stores.listStores(account.id),
      accounts.listApiKeys(account.id),
      activation.activationUrls(account.id, config.publicUrl),
    ]);
    // Per store: the doctor's cached report (never run by showing the page), the newest timeline steps, this
    // instance's availability, and the store views (cached: the page does not call Magento every time).
    const storeRows = await Promise.all(
      storeList.map(async (s) => ({
        ...s,
        health: health.cached(s.id) ?? null,
        timeline: await stores.recentSteps(s.id, STEPS_SHOWN),
        availability: availability.describe(s.consumerKey),
        storeViews: s.state === 'active' ? await storeViews.of(account.id, s.id) : null,
      })),
    );
    page(ctx, 'account.njk', {
      title: 'Your stores',
      mainClass: 'wide',
      email: account.email,
      stores: storeRows,
      healthTtlMinutes: Math.round(DOCTOR_CACHE_TTL_MS / 60_000),
      keys: keyList.map((k) => ({ ...k, createdAt: k.createdAt.toISOString(), lastUsedAt: k.lastUsedAt?.toISOString() ?? null })),
      // The account's own URLs (issue 13): an activation through them belongs to this account from its first request.
      callbackUrl: urls.callbackUrl,
      identityUrl: urls.identityLinkUrl,
      apiUrl: `${config.publicUrl}/api/stores`,
      hasPassword: account.passwordHash !== NO_PASSWORD, // the change-password panel
      ...flash.take(ctx),
    });
  };

  const signedIn: Middleware<SessionState> = (ctx) => ctx.redirect(ACCOUNT_PATH);

  router.get('/', (ctx) => ctx.redirect(ACCOUNT_PATH));
  router.get(SIGN_IN_PATH, async (ctx) => {
    // Already signed in: straight to the account page.
    if (await accounts.sessionAccount(ctx.cookies.get(SESSION_COOKIE))) return ctx.redirect(ACCOUNT_PATH);
    showLogin(ctx);
  });
  for (const kind of ['login', 'signup'] as const satisfies FormKind[]) {
    router.post(`/account/${kind}`, form, csrf, signInOrUp<SessionState>(services, kind, showLogin), signedIn);
  }
  router.post('/account/logout', form, csrf, async (ctx) => {
    await accounts.endSession(ctx.cookies.get(SESSION_COOKIE));
    clearCookie(ctx, config, SESSION_COOKIE);
    ctx.status = 303;
    ctx.redirect(SIGN_IN_PATH);
  });

  router.get(ACCOUNT_PATH, session, showAccount);

  router.post('/account/api-keys', form, csrf, session, async (ctx) => {
    const { key } = await accounts.createApiKey(ctx.state.account.id, field(ctx.state.form, 'name'));
    backToAccount(ctx, { newKey: key });
  });

  router.post('/account/api-keys/:id/revoke', form, csrf, session, async (ctx) => {
    const revoked = await accounts.revokeApiKey(ctx.state.account.id, ctx.params.id!);
    if (!revoked) throw new HttpError('api_key_not_found', 'Your account has no such key (or it is revoked already).');
    keys.forget(revoked.hash); // at once here; other instances within their cache TTL
    backToAccount(ctx, { notice: 'The key is revoked: it stops working everywhere within a few seconds.' });
  });

  // New activation URLs: the old ones stop accepting new activations; connected stores are untouched.
  router.post('/account/activation-urls/rotate', form, csrf, session, async (ctx) => {
    await activation.rotateActivationUrls(ctx.state.account.id, config.publicUrl);
    backToAccount(ctx, {
      notice: 'New Callback and Identity Link URLs are shown below. The old ones no longer accept activations; stores already connected keep working.',
    });
  });

  // Disconnecting a store: a confirmation page, then the same deletion as DELETE /api/stores/:id.
  router.get('/account/stores/:id/disconnect', session, async (ctx) => {
    const store = await stores.getStore(ctx.state.account.id, ctx.params.id!);
    page(ctx, 'disconnect.njk', { title: 'Disconnect this store?', store });
  });
  // "Check now": runs the store doctor (the report is then shown, cached, by the account page).
  router.post('/account/stores/:id/health', form, csrf, session, async (ctx) => {
    const store = await stores.getStore(ctx.state.account.id, ctx.params.id!);
    const report = await health.check(ctx.state.account.id, store.id, { refresh: true });
    const count = (status: string) => report.checks.filter((c) => c.status === status).length;
    const [fail, warn] = [count('fail'), count('warn')];
    const summary = fail || warn ? `${fail} failed, ${warn} to look at` : 'everything is fine';
    backToAccount(ctx, { notice: `${store.storeBaseUrl} checked: ${summary}.` });
  });

  router.post('/account/stores/:id/disconnect', form, csrf, session, async (ctx) => {
    const store = await stores.getStore(ctx.state.account.id, ctx.params.id!);
    await stores.deleteStore(ctx.state.account.id, store.id);
    health.forget(store.id);
    backToAccount(ctx, { notice: `${store.storeBaseUrl} is disconnected: its tokens are deleted and calls to it stop within a few seconds.` });
  });
  return router;
}
