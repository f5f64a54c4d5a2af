// The end of every sign-in in the popup (email and password, or the OpenID provider): the activation completes for
// the signed-in account, then the browser goes back to Magento's success_call_back, which closes the popup.
import type { Middleware } from 'koa';
import type { ActivationScope, ActivationService } from '../../activation/service.js';
import type { Account, Binding } from '../../storage/types.js';
import { sendPage } from '../pages.js';
import type { BaseState, IdentityLink } from '../state.js';
import type { Render } from '../views.js';

/** `scope`: the popup the activation came through (issue 13); an account's own popup completes for its members only. */
type ActivationState = BaseState & { link: IdentityLink; account: Account; binding: Binding; scope: ActivationScope };

export function completeActivation(activation: ActivationService): Middleware<ActivationState> {
  return async function completeActivation(ctx, next) {
    ctx.state.binding = await activation.completeForAccount(ctx.state.link.consumerKey, ctx.state.account.id, ctx.state.scope);
    await next();
  };
}

/** Back to Magento only when success_call_back is on the store's own host; otherwise a page that says it is done. */
export function backToMagento(render: Render): Middleware<ActivationState> {
  return function backToMagento(ctx) {
    const { link, binding, account } = ctx.state;
    const back = link.successCallBack;
    if (back && new URL(back).host === new URL(binding.storeBaseUrl).host) return ctx.redirect(back);
    sendPage(ctx, render, 'message.njk', {
      title: 'Connected',
      message: `Your store is connected to ${account.email}.`,
      ok: true,
      storeUrl: binding.storeBaseUrl,
      closeHint: true,
      popup: true,
    });
  };
}
