// The binding a popup form is for, by the link's consumer key. The activation service decides: an unknown
// activation, or a refused callback, is an ActivationError page with the fix.
import type { Middleware } from 'koa';
import type { ActivationService } from '../../activation/service.js';
import type { Binding } from '../../storage/types.js';
import type { BaseState, IdentityLink } from '../state.js';

type LoadedState = BaseState & { link: IdentityLink; binding: Binding };

/** For the popup's forms: the binding to continue with. */
export function loadIdentity(activation: ActivationService): Middleware<LoadedState> {
  return async function loadIdentity(ctx, next) {
    ctx.state.binding = await activation.knownBinding(ctx.state.link.consumerKey);
    await next();
  };
}

/** For the popup's first page: the binding to sign in for, or why it cannot be finished (failed, refused...). */
export function loadIdentityPage(activation: ActivationService): Middleware<LoadedState> {
  return async function loadIdentityPage(ctx, next) {
    ctx.state.binding = await activation.identityPage(ctx.state.link.consumerKey);
    await next();
  };
}
