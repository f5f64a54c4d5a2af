// Sign-in with the CRM's OpenID provider (issue 14), from the Magento popup and from the account page.
//   POST /magento/identity/<token>/oidc   the button of an account's own popup (issue 13): its hidden fields
//                                         (consumer key, success_call_back, CSRF); completes for a member only and
//                                         creates no account (sign-up is not offered there)
//   POST /magento/identity/oidc   the shared popup's button (OPEN_SIGNUP_ACTIVATION only): the store's URL must be
//                                 confirmed (confirm_store=yes), as on its password forms
//   POST /account/oidc            the account page's button
//   GET  /oidc/callback           the redirect URI registered at the provider
// Everything the round trip needs (state, nonce, PKCE verifier, where it started, the CSRF cookie's hash) travels
// in one sealed, short-lived cookie, opened and cleared on return: a replayed callback, one opened in another
// browser, or one with a wrong state is refused, before anything is written. After return in the popup the merchant
// is signed in, the activation completes and the browser goes back to Magento's success_call_back, exactly as the
// password sign-in does (steps/complete-activation.ts). Every failure is the site's error page (error-handler.ts).
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { sha256, safeEqual } from '../../accounts/tokens.js';
import { ActivationError } from '../../activation/service.js';
import { IdentityError } from '../../identity/errors.js';
import { OIDC_FLOW_COOKIE, openFlow, sealFlow, type OidcFlow } from '../../identity/flow-cookie.js';
import { OIDC_CALLBACK_PATH } from '../../identity/index.js';
import type { Account, Binding } from '../../storage/types.js';
import type { HttpServices } from '../context.js';
import { clearCookie, CSRF_COOKIE, SESSION_COOKIE, setCookie } from '../cookies.js';
import type { FormState, IdentityLink } from '../state.js';
import { activationScope, SHARED_URLS_OFF, type ScopeState } from '../steps/activation-scope.js';
import { checkCsrf } from '../steps/check-csrf.js';
import { backToMagento, completeActivation } from '../steps/complete-activation.js';
import { readIdentityLink } from '../steps/identity-link.js';
import { field, readForm } from '../steps/read-form.js';
import { SIGN_IN_PATH } from '../steps/require-session.js';
import { ACCOUNT_PATH } from './account.js';

export interface OidcState extends FormState {
  /** The popup's Identity Link: from its form at the start, from the flow cookie on return; absent for the account page. */
  link?: IdentityLink;
  flow: OidcFlow;
  account: Account;
  binding: Binding;
  /** The popup the flow started in (issue 13); on the account page, the shared scope (nothing is completed there). */
  scope: ScopeState['scope'];
}

/** The popup's routes, once its link and scope are read. */
type PopupState = { link: IdentityLink } & Omit<ScopeState, keyof FormState>;

export function oidcRoutes(services: HttpServices): Router<OidcState> {
  const { config, clock, logger, accounts, activation, identity, render, csrfKey } = services;
  const router = new Router<OidcState>();
  const form = readForm(config.limits.callbackBodyBytes);
  const csrf = checkCsrf(csrfKey);

  function oidc() {
    const client = identity.oidc;
    if (!client) throw new IdentityError('oidc_not_configured', 'Sign-in with an identity provider is not set up here.');
    return client;
  }

  // Not worth a round trip to the provider for an activation we never heard of (or whose callback we refused), or
  // that the popup's account has no binding for.
  const knownActivation: Middleware<OidcState & PopupState> = async function knownActivation(ctx, next) {
    ctx.state.binding = await activation.knownBinding(ctx.state.link.consumerKey, ctx.state.scope);
    await next();
  };

  /** The shared popup binds a store only once its URL was confirmed, whichever way the merchant signs in (issue 13). */
  const confirmedStore: Middleware<OidcState & PopupState> = async function confirmedStore(ctx, next) {
    if (field(ctx.state.form, 'confirm_store') !== 'yes') {
      ctx.state.retry = { url: popupUrl(ctx.state.base, ctx.state.link), text: 'Back to the popup' };
      throw new ActivationError('store_not_confirmed', `Confirm that ${ctx.state.binding.storeBaseUrl} is your store before connecting it: tick the box above the button.`);
    }
    await next();
  };

  /** Discovers the provider (an error page when it is down, and no cookie), seals the flow, sends the browser on. */
  const startFlow: Middleware<OidcState> = async function startFlow(ctx) {
    const { url, secrets } = await oidc().start();
    const expiresAt = clock.now().getTime() + config.identity.oidcRoundTripMs;
    const { link } = ctx.state;
    const flow: OidcFlow = {
      ...secrets,
      expiresAt,
      csrfSeedHash: sha256(ctx.cookies.get(CSRF_COOKIE) ?? ''),
      popup: link ? { consumerKey: link.consumerKey, successCallBack: link.successCallBack, accountId: ctx.state.scope.accountId, base: (ctx.state as Partial<PopupState>).base ?? '/magento/identity' } : null,
    };
    setCookie(ctx, config, OIDC_FLOW_COOKIE, sealFlow(identity.flowKey, flow), new Date(expiresAt));
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url);
    ctx.status = 303; // after a POST: the provider is fetched with GET
  };

  router.post<PopupState>('/magento/identity/oidc', activationScope(services, true), form, csrf, readIdentityLink('form'), knownActivation, confirmedStore, startFlow);
  router.post<PopupState>('/magento/identity/:token/oidc', activationScope(services, false), form, csrf, readIdentityLink('form'), knownActivation, startFlow);
  router.post('/account/oidc', form, csrf, startFlow);

  // ---- the return ------------------------------------------------------------------------------------------------

  /**
   * Opens and clears the flow cookie (single use), and checks it belongs to this callback and this browser: the
   * OpenID flow's own binding to the browser, on top of the CSRF check its start form passed.
   */
  const openReturn: Middleware<OidcState> = async function openReturn(ctx, next) {
    const raw = ctx.cookies.get(OIDC_FLOW_COOKIE);
    if (raw !== undefined) clearCookie(ctx, config, OIDC_FLOW_COOKIE);
    const flow = openFlow(identity.flowKey, raw, clock.now());
    const name = identity.oidc?.name ?? 'your identity provider';
    if (!flow) {
      throw new IdentityError(
        'oidc_flow_missing',
        `This sign-in with ${name} cannot be finished here: it was started in another browser, was already finished, or took longer than ${Math.round(config.identity.oidcRoundTripMs / 60_000)} minutes. Nothing was changed.`,
        { fix: 'Start again: in the Magento popup click Activate in the Magento admin again, or sign in again on the account page.' },
      );
    }
    const popup = flow.popup;
    const link = popup ? { consumerKey: popup.consumerKey, successCallBack: popup.successCallBack } : undefined;
    ctx.state.link = link;
    ctx.state.scope = { accountId: popup?.accountId ?? null };
    ctx.state.inPopup = link !== undefined;
    ctx.state.retry = { url: popup && link ? popupUrl(popup.base, link) : SIGN_IN_PATH, text: 'Back to the sign-in' };
    // The shared popup's flows end when the operator turns OPEN_SIGNUP_ACTIVATION off meanwhile.
    if (popup && popup.accountId === null && !config.openSignupActivation) throw new ActivationError('shared_activation_disabled', SHARED_URLS_OFF);
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
  };

  /** Redeems the code, validates the ID token, finds or links the account, starts a session. */
  const signIn: Middleware<OidcState> = async function signIn(ctx, next) {
    const claims = await oidc().finish(ctx.querystring, ctx.state.flow);
    // An account's own popup signs in its members; it never creates an account (issue 13).
    const popup = ctx.state.flow.popup;
    const { account, created, linked } = await identity.linker.accountFor(claims, { mayCreate: !popup || popup.accountId === null });
    logger.info({ requestId: ctx.state.requestId, accountId: account.id, created, linked }, 'signed in with OpenID provider');
    const { token, expiresAt } = await accounts.startSession(account.id);
    setCookie(ctx, config, SESSION_COOKIE, token, expiresAt);
    ctx.state.account = account;
    await next();
  };

  /** Started on the account page: go there. From the popup: on to complete the activation. */
  const toAccountPage: Middleware<OidcState> = async function toAccountPage(ctx, next) {
    if (!ctx.state.link) return ctx.redirect(ACCOUNT_PATH);
    await next();
  };

  router.get<PopupState>(OIDC_CALLBACK_PATH, openReturn, signIn, toAccountPage, completeActivation(activation), backToMagento(render));
  return router;
}

/** The popup's own page for `link`, under `base` (where the error page's "start again" leads). */
function popupUrl(base: string, link: IdentityLink): string {
  return `${base}?${new URLSearchParams({ oauth_consumer_key: link.consumerKey, ...(link.successCallBack ? { success_call_back: link.successCallBack } : {}) })}`;
}
