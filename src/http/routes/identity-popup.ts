// The Identity Link popup: GET /magento/identity shows the sign-in and sign-up forms for the activation in the link;
// POST /magento/identity/login and /signup sign the merchant in (or up) and complete the activation. Every failure
// is the site's error page (error-handler.ts); a refused sign-in shows the forms again with the message.
import Router from '@koa/router';
import type { Middleware, ParameterizedContext } from 'koa';
import { PASSWORD_MIN } from '../../accounts/passwords.js';
import type { HttpServices } from '../context.js';
import { csrfToken } from '../cookies.js';
import { sendPage } from '../pages.js';
import type { IdentityState } from '../state.js';
import { checkCsrf } from '../steps/check-csrf.js';
import { backToMagento, completeActivation } from '../steps/complete-activation.js';
import { readIdentityLink } from '../steps/identity-link.js';
import { loadIdentity, loadIdentityPage } from '../steps/load-identity.js';
import { readForm } from '../steps/read-form.js';
import { signInOrUp, type FormKind, type Refusal } from '../steps/sign-in-or-up.js';

export function identityPopupRoutes(services: HttpServices): Router<IdentityState> {
  const { config, render, csrfKey, activation } = services;
  const router = new Router<IdentityState>();

  function showForms(ctx: ParameterizedContext<IdentityState>, status = 200, refusal?: Refusal): void {
    const { link, binding } = ctx.state;
    sendPage(ctx, render, 'identity.njk', {
      title: 'Connect your store',
      storeUrl: binding.storeBaseUrl,
      consumerKey: link.consumerKey,
      successCallBack: link.successCallBack ?? '',
      csrf: csrfToken(ctx, config, csrfKey),
      passwordMin: PASSWORD_MIN,
      ...(refusal && { error: refusal.error, email: refusal.email, form: refusal.kind }),
    }, status);
  }

  const showIdentity: Middleware<IdentityState> = function showIdentity(ctx) {
    showForms(ctx);
  };

  router.get('/magento/identity', readIdentityLink('query'), loadIdentityPage(activation), showIdentity);

  const form = readForm(config.limits.callbackBodyBytes);
  for (const kind of ['login', 'signup'] as const satisfies FormKind[]) {
    router.post(
      `/magento/identity/${kind}`,
      form,
      checkCsrf(csrfKey),
      readIdentityLink('form'),
      loadIdentity(activation),
      signInOrUp<IdentityState>(services, kind, (ctx, refusal) => showForms(ctx, refusal.status, refusal)),
      completeActivation(activation),
      backToMagento(render),
    );
  }
  return router;
}
