// Errors of the activation flow. Each carries a stable code (the HTTP layer maps it to a status) and, where there is
// one, the fix to offer in the Magento admin's words.
import { ConnectorError } from '../errors.js';
import type { Binding, Fix } from '../storage/types.js';
import { fixText } from './fixes.js';

export type ActivationErrorCode =
  | 'callback_conflict'
  | 'callback_refused'
  | 'unknown_activation'
  | 'owned_by_other_account'
  | 'activation_failed'
  | 'still_connecting'
  // issue 13
  | 'unknown_activation_url'
  | 'shared_activation_disabled'
  | 'consumer_key_reserved'
  | 'callback_rate_limited'
  | 'too_many_stores'
  | 'not_a_member'
  | 'store_not_confirmed';

/** A store's own text (oauth_problem, a transport error) is cut before it is stored or shown: one rule, the protocol's. */
import { cutStoreText as storeText } from '../protocol/magento-errors.js';
export { storeText };

/** An activation that cannot go on; `fix` is the text of `fixCode` (or a refusal's own fix). */
export class ActivationError extends ConnectorError<ActivationErrorCode> {
  readonly fixCode: Fix | null;
  /** The binding concerned, when there is one (pages show its store URL). */
  readonly binding: Binding | undefined;

  constructor(
    code: ActivationErrorCode,
    message: string,
    options: { fix?: Fix | null; fixText?: string; binding?: Binding; retryAfterSeconds?: number } = {},
  ) {
    super(code, storeText(message, 1_000), {
      fix: options.fixText ?? fixText(options.fix ?? null),
      ...(options.retryAfterSeconds ? { retryAfterSeconds: options.retryAfterSeconds } : {}),
    });
    this.fixCode = options.fix ?? null;
    this.binding = options.binding;
  }
}
