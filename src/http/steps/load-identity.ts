// The binding the popup is about, by the link's consumer key; an unknown one is a 404 page with the fix.
// The storage read and the "unknown activation" text are the activation service's to own (an identity-page
// operation is being added there); until then this step reads storage itself.
import type { Middleware } from 'koa';
import { ActivationError } from '../../activation/service.js';
import type { Binding, Storage } from '../../storage/types.js';
import type { BaseState, IdentityLink } from '../state.js';

export function loadIdentity(storage: Storage): Middleware<BaseState & { link: IdentityLink; binding: Binding }> {
  return async function loadIdentity(ctx, next) {
    const binding = await storage.bindings.byConsumerKey(ctx.state.link.consumerKey);
    if (!binding) {
      throw new ActivationError(
        'unknown_activation',
        'We have not received Magento\'s callback for this integration. Check that its Callback URL and Identity ' +
          'Link URL are both set to ours, then click Activate again.',
        'activate_again',
      );
    }
    ctx.state.binding = binding;
    await next();
  };
}
