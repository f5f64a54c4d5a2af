// Sign-in with the CRM's OpenID provider (issue 14), from the Magento popup and from the account page.
//   POST /magento/identity/oidc   the popup's button: its hidden fields (consumer key, success_call_back, CSRF)
//   POST /account/oidc            the account page's button
//   GET  /oidc/callback           the redirect URI registered at the provider
// Everything the round trip needs (state, nonce, PKCE verifier, where it started, the CSRF cookie's hash) travels
// in one sealed, short-lived cookie, opened and cleared on return: a replayed callback, one opened in another
// browser, or one with a wrong state is refused with a page, before anything is written. After return in the popup
// the merchant is signed in, the activation completes and the browser goes back to Magento's success_call_back,
// exactly as the password sign-in does (routes/magento.ts).
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { sha256, safeEqual } from '../../accounts/tokens.js';
import { ActivationError } from '../../activation/service.js';
import { IdentityError } from '../../identity/errors.js';
import { OIDC_FLOW_COOKIE, openFlow, sealFlow, type OidcFlow } from '../../identity/flow-cookie.js';
import { OIDC_CALLBACK_PATH } from '../../identity/index.js';
import type { HttpServices } from '../context.js';
import { clearCookie, CSRF_COOKIE, csrfValid, SESSION_COOKIE, setCookie } from '../cookies.js';
import { pageTitleOf, statusOf } from '../error-status.js';
import { toConnectorError } from '../errors.js';
import { field, readForm } from '../steps/read-form.js';
import { IDENTITY_ERROR_STATUS, IDENTITY_ERROR_TITLE } from './identity-status.js';

const CONSUMER_KEY = /^[0-9A-Za-z]{16,64}$/;
const MAX_URL = 2048;

/** Where a failed sign-in can be started again, when we know. */
interface Retry {
  linkUrl: string;
  linkText: string;
}

export function oidcRoutes(s: HttpServices): Router {
  const router = new Router();
  const form = readForm(s.config.limits.callbackBodyBytes);

  function problem(ctx: Context, status: number, title: string, message: string, extra: Record<string, unknown> = {}): void {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = s.render('identity/problem.njk', { title, message, requestId: ctx.state.requestId, ...extra });
  }

  /** Every failure on these routes is a page (never JSON): the popup and the account page are browsers. */
  async function pageErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const retry = ctx.state.retry as Retry | undefined;
      if (err instanceof IdentityError) {
        if (err.retryAfterSeconds) ctx.set('Retry-After', String(err.retryAfterSeconds));
        return problem(ctx, IDENTITY_ERROR_STATUS[err.code], IDENTITY_ERROR_TITLE[err.code] ?? 'Sign-in failed', err.message, { ...retry });
      }
      if (err instanceof ActivationError) {
        return problem(ctx, statusOf(err.code), pageTitleOf(err.code), err.message, { fix: err.fix, storeUrl: err.binding?.storeBaseUrl });
      }
      const known = toConnectorError(err);
      if (known) return problem(ctx, statusOf(known.code), 'Something is not right', known.message);
      s.logger.error({ err, requestId: ctx.state.requestId }, 'unhandled error');
      problem(ctx, 500, 'Something went wrong', `Something went wrong on our side (request ${ctx.state.requestId}). Try again.`);
    }
  }

  function oidc() {
    const client = s.identity.oidc;
    if (!client) throw new IdentityError('oidc_not_configured', 'Sign-in with an identity provider is not set up here.');
    return client;
  }

  async function checkCsrf(ctx: Context, next: Next): Promise<void> {
    if (!csrfValid(ctx, s.csrfKey, field(ctx.state.form, 'csrf'))) {
      throw new IdentityError('oidc_flow_missing', 'This form expired or was not sent from this page. Reload the page and try again.');
    }
    await next();
  }

  /** The popup's hidden fields, checked as the password forms check them (routes/magento.ts identityParams). */
  async function readPopupFields(ctx: Context, next: Next): Promise<void> {
    const key = field(ctx.state.form, 'oauth_consumer_key');
    if (!key || !CONSUMER_KEY.test(key)) {
      throw new IdentityError('oidc_flow_missing', 'This page must be opened from the Magento admin: the form is missing the integration\'s consumer key. In the Magento admin, open System > Extensions > Integrations and click Activate.');
    }
    const back = field(ctx.state.form, 'success_call_back') ?? '';
    if (back !== '' && (back.length > MAX_URL || !/^https?:\/\//i.test(back) || !URL.canParse(back))) {
      throw new IdentityError('oidc_flow_missing', 'The link\'s success_call_back is not a valid web address. Open this page from the Magento admin again.');
    }
    const consumerKey = key.toLowerCase();
    // Not worth a round trip to the provider for an activation we never heard of.
    await s.activation.knownBinding(consumerKey);
    ctx.state.popup = { consumerKey, successCallBack: back || null } satisfies OidcFlow['popup'];
    await next();
  }

  /** Discovers the provider (a clear page when it is down, and no cookie), seals the flow, sends the browser on. */
  async function startFlow(ctx: Context): Promise<void> {
    const { url, secrets } = await oidc().start();
    const expiresAt = s.clock.now().getTime() + s.config.identity.oidcRoundTripMs;
    const flow: OidcFlow = {
      ...secrets,
      expiresAt,
      csrfSeedHash: sha256(ctx.cookies.get(CSRF_COOKIE) ?? ''),
      popup: (ctx.state.popup as OidcFlow['popup'] | undefined) ?? null,
    };
    setCookie(ctx, s.config, OIDC_FLOW_COOKIE, sealFlow(s.identity.flowKey, flow), new Date(expiresAt));
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url);
    ctx.status = 303; // after a POST: the provider is fetched with GET
  }

  router.post('/magento/identity/oidc', pageErrors, form, checkCsrf, readPopupFields, startFlow);
  router.post('/account/oidc', pageErrors, form, checkCsrf, startFlow);

  // ---- the return ------------------------------------------------------------------------------------------------

  /** Opens and clears the flow cookie (single use), and checks it belongs to this callback and this browser. */
  async function openReturn(ctx: Context, next: Next): Promise<void> {
    const raw = ctx.cookies.get(OIDC_FLOW_COOKIE);
    if (raw !== undefined) clearCookie(ctx, s.config, OIDC_FLOW_COOKIE);
    const flow = openFlow(s.identity.flowKey, raw, s.clock.now());
    const name = s.identity.oidc?.name ?? 'your identity provider';
    if (!flow) {
      throw new IdentityError(
        'oidc_flow_missing',
        `This sign-in with ${name} cannot be finished here: it was started in another browser, was already finished, or took longer than ${Math.round(s.config.identity.oidcRoundTripMs / 60_000)} minutes. Nothing was changed.`,
        { fix: 'Start again: in the Magento popup click Activate in the Magento admin again, or sign in again on the account page.' },
      );
    }
    ctx.state.retry = flow.popup
      ? {
          linkUrl: `/magento/identity?${new URLSearchParams({ oauth_consumer_key: flow.popup.consumerKey, ...(flow.popup.successCallBack ? { success_call_back: flow.popup.successCallBack } : {}) })}`,
          linkText: 'Back to the sign-in',
        }
      : { linkUrl: '/account/login', linkText: 'Back to the sign-in' };
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    if (!state || !safeEqual(state, flow.state)) {
      throw new IdentityError('oidc_state_mismatch', `This answer from ${name} does not belong to the sign-in this browser started, so it was refused. Nothing was changed.`);
    }
    const seed = ctx.cookies.get(CSRF_COOKIE);
    if (!seed || !safeEqual(sha256(seed), flow.csrfSeedHash)) {
      throw new IdentityError('oidc_flow_missing', `This sign-in with ${name} was started in another browser session, so it was refused. Nothing was changed.`);
    }
    ctx.state.flow = flow;
    await next();
  }

  /** Redeems the code, validates the ID token, finds or links the account, starts a session. */
  async function signIn(ctx: Context, next: Next): Promise<void> {
    const flow = ctx.state.flow as OidcFlow;
    const claims = await oidc().finish(ctx.querystring, flow);
    const { account, created, linked } = await s.identity.linker.accountFor(claims);
    s.logger.info({ requestId: ctx.state.requestId, accountId: account.id, created, linked }, 'signed in with OpenID provider');
    const { token, expiresAt } = await s.accounts.startSession(account.id);
    setCookie(ctx, s.config, SESSION_COOKIE, token, expiresAt);
    ctx.state.account = account;
    await next();
  }

  /** The account page: go there. The popup: complete the activation, then back to Magento as routes/magento.ts does. */
  async function finish(ctx: Context): Promise<void> {
    const flow = ctx.state.flow as OidcFlow;
    const account = ctx.state.account as { id: string; email: string };
    if (!flow.popup) return ctx.redirect('/account');
    const binding = await s.activation.completeForAccount(flow.popup.consumerKey, account.id);
    const back = flow.popup.successCallBack;
    // Back to Magento (which closes the popup) only when success_call_back is on the store's own host.
    if (back && new URL(back).host === new URL(binding.storeBaseUrl).host) return ctx.redirect(back);
    ctx.status = 200;
    ctx.type = 'html';
    ctx.body = s.render('message.njk', {
      title: 'Connected',
      message: `Your store is connected to ${account.email}.`,
      ok: true,
      storeUrl: binding.storeBaseUrl,
      closeHint: true,
    });
  }

  router.get(OIDC_CALLBACK_PATH, pageErrors, openReturn, signIn, finish);
  return router;
}
