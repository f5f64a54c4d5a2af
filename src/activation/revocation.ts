// Magento refused an access token that used to work (integration deleted or reauthorized): the binding transition
// `revoked`, applied by whoever noticed (the store gateway, on a 401 that says the token is dead).
import type { Clock } from '../clock.js';
import type { Binding, BindingRepository, TransitionEvents } from '../storage/types.js';
import { revoked } from './transitions.js';

export function revokeAccessToken(
  bindings: BindingRepository,
  clock: Clock,
  bindingId: string,
  accessToken: string,
  message: string,
  events?: TransitionEvents,
): Promise<Binding | null> {
  const now = clock.now();
  return bindings.modify(bindingId, (cur) => revoked(cur, { accessToken, message, now }), undefined, events);
}
