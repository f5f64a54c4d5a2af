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
  | 'still_connecting';

/** An activation that cannot go on; `fix` is the text of `fixCode` (or a refusal's own fix). */
export class ActivationError extends ConnectorError<ActivationErrorCode> {
  readonly fixCode: Fix | null;
  /** The binding concerned, when there is one (pages show its store URL). */
  readonly binding: Binding | undefined;

  constructor(code: ActivationErrorCode, message: string, options: { fix?: Fix | null; fixText?: string; binding?: Binding } = {}) {
    super(code, message, { fix: options.fixText ?? fixText(options.fix ?? null) });
    this.fixCode = options.fix ?? null;
    this.binding = options.binding;
  }
}
