// The Identity Link popup (issue 13: an activation belongs to an account from its first request).
//   GET  /magento/identity/<token>          the account's own popup: a signed-in member clicks "Connect"; anyone else
//   POST /magento/identity/<token>/login    signs in (no sign-up here) as a member of that account, and
//   POST /magento/identity/<token>/connect  completes the activation for that account only.
//   (POST /magento/identity/<token>/oidc and /magento/identity/oidc, the OpenID button, are in oidc.ts.)
//   GET  /magento/identity, POST /magento/identity/login and /signup: the shared popup, only with
//   OPEN_SIGNUP_ACTIVATION=true; it shows the store's URL and binds it only after an explicit confirmation.
// Every failure is the site's error page (error-handler.ts); a refused sign-in shows the forms again with the message.
import Router from '@koa/router';
import type { Middleware, ParameterizedContext } from 'koa';
import { PASSWORD_MIN } from '../../accounts/passwords.js';
import { ActivationError } from '../../activation/service.js';
import type { HttpServices } from '../context.js';
import { csrfToken } from '../cookies.js';
import { sendPage } from '../pages.js';
import type { IdentityState } from '../state.js';
import { checkCsrf } from '../steps/check-csrf.js';
import { activationScope, type ScopeState } from '../steps/activation-scope.js';
import { backToMagento, completeActivation } from '../steps/complete-activation.js';
import { readIdentityLink } from '../steps/identity-link.js';
import { field, readForm } from '../steps/read-form.js';
import { signInOrUp, type FormKind, type Refusal } from '../steps/sign-in-or-up.js';

type PopupState = IdentityState & ScopeState;

const REDACTED =
  'The store could not be connected. Sign in to the account this store belongs to (its account page shows the ' +
  'store\'s last error) to see why.';

export function identityPopupRoutes(services: HttpServices): Router<PopupState> {
  const { config, render, csrfKey, activation } = services;
  const router = new Router<PopupState>();

  function showForms(ctx: ParameterizedContext<PopupState>, status = 200, refusal?: Refusal): void {
    const { link, binding, scope, base, viewer } = ctx.state;
    const member = scope.accountId !== null && viewer?.id === scope.accountId ? viewer : null;
    sendPage(ctx, render, 'identity.njk', {
      title: 'Connect your store',
      storeUrl: binding.storeBaseUrl,
      consumerKey: link.consumerKey,
      successCallBack: link.successCallBack ?? '',
      csrf: csrfToken(ctx, config, csrfKey),
      passwordMin: PASSWORD_MIN,
      base,
      // Sign-up only in the shared popup; there the store's URL must be confirmed before it is bound.
      offerSignup: scope.accountId === null,
      confirmStore: scope.accountId === null,
      memberEmail: member?.email ?? null,
      ...(refusal && { error: refusal.error, email: refusal.email, form: refusal.kind }),
    }, status);
  }

  /**
   * The binding to show or continue with. Why it cannot be finished names a store's own failure (a transport error
   * can reveal what our address reaches) only to a signed-in member of the binding's account.
   */
  function loadBinding(page: boolean): Middleware<PopupState> {
    return async function loadBinding(ctx, next) {
      const { link, scope, viewer } = ctx.state;
      try {
        ctx.state.binding = page ? await activation.identityPage(link.consumerKey, scope) : await activation.knownBinding(link.consumerKey, scope);
      } catch (err) {
        if (err instanceof ActivationError && err.binding && err.binding.lastError && (!viewer || viewer.id !== err.binding.accountId)) {
          throw new ActivationError(err.code, REDACTED, { ...(err.fix ? { fixText: err.fix } : {}) });
        }
        throw err;
      }
      await next();
    };
  }

  const showIdentity: Middleware<PopupState> = function showIdentity(ctx) {
    showForms(ctx);
  };

  /**
   * The shared popup binds a store only after its URL was confirmed (the page shows it beside the checkbox). Checked
   * after the sign-in, so a refused sign-in (and its throttling) answers as on every other form.
   */
  const confirmed: Middleware<PopupState> = async function confirmed(ctx, next) {
    if (ctx.state.scope.accountId === null && field(ctx.state.form, 'confirm_store') !== 'yes') {
      return showForms(ctx, 400, {
        kind: ctx.path.endsWith('/signup') ? 'signup' : 'login',
        status: 400,
        error: `Confirm that ${ctx.state.binding.storeBaseUrl} is your store before connecting it.`,
        email: field(ctx.state.form, 'email') ?? '',
      });
    }
    await next();
  };

  /** The Connect button: the signed-in member, without typing the password again. */
  const signedInMember: Middleware<PopupState> = async function signedInMember(ctx, next) {
    const { viewer, scope } = ctx.state;
    if (!viewer || viewer.id !== scope.accountId) {
      throw new ActivationError('not_a_member', 'Sign in with the account this activation link belongs to, then connect the store.');
    }
    ctx.state.account = viewer;
    await next();
  };

  const form = readForm(config.limits.callbackBodyBytes);
  const csrf = checkCsrf(csrfKey);
  const complete = completeActivation(activation);
  const back = backToMagento(render);
  const resolveScope = (shared: boolean) => activationScope(services, shared);
  const signIn = (kind: FormKind) => signInOrUp<PopupState>(services, kind, (ctx, refusal) => showForms(ctx, refusal.status, refusal));

  // The shared popup (OPEN_SIGNUP_ACTIVATION=true only).
  router.get('/magento/identity', resolveScope(true), readIdentityLink('query'), loadBinding(true), showIdentity);
  for (const kind of ['login', 'signup'] as const satisfies FormKind[]) {
    router.post(`/magento/identity/${kind}`, resolveScope(true), form, csrf, readIdentityLink('form'), loadBinding(false), signIn(kind), confirmed, complete, back);
  }

  // The account's own popup.
  router.get('/magento/identity/:token', resolveScope(false), readIdentityLink('query'), loadBinding(true), showIdentity);
  router.post('/magento/identity/:token/login', resolveScope(false), form, csrf, readIdentityLink('form'), loadBinding(false), signIn('login'), complete, back);
  router.post('/magento/identity/:token/connect', resolveScope(false), form, csrf, readIdentityLink('form'), signedInMember, loadBinding(false), complete, back);
  return router;
}
