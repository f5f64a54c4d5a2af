// What the Identity Link popup may show for a consumer key: the sign-in forms, or why the activation cannot be
// finished (no callback received, a callback we refused, nothing left in progress), with the fix.
import type { Binding } from '../storage/types.js';
import { consumerKeyHash } from './callback.js';
import type { ActivationDeps } from './deps.js';
import { ActivationError } from './errors.js';
import { REFUSAL_FIX_TEXT } from './fixes.js';
import { REFUSALS_KEPT_MS } from './intake.js';
import { cannotBeCompleted, fallbackFix } from './transitions.js';

/** Which popup a request came through: an account's own Identity Link URL (its id) or the shared one (null). */
export interface ActivationScope {
  accountId: string | null;
}

/**
 * The binding of `consumerKey` (as normaliseConsumerKey spells it), or why there is none to continue with: a callback
 * we refused since the binding's newest callback (or since there is none), or no callback at all.
 */
export async function knownBinding(deps: ActivationDeps, consumerKey: string, scope: ActivationScope = { accountId: null }): Promise<Binding> {
  const { storage, clock } = deps;
  const [found, refusal] = await Promise.all([
    storage.bindings.byConsumerKey(consumerKey),
    storage.callbackRefusals.latest(consumerKeyHash(consumerKey), new Date(clock.now().getTime() - REFUSALS_KEPT_MS)),
  ]);
  // Through an account's own URL only that account's bindings exist: another account's (or an unowned one) is
  // answered exactly like an unknown one, so the URL reveals nothing about other accounts (issue 13).
  const binding = found && (scope.accountId === null || found.accountId === scope.accountId) ? found : null;
  if (refusal && (!binding || refusal.refusedAt > binding.callbackAt)) {
    throw new ActivationError('callback_refused', `Magento's callback reached us but we refused it: ${refusal.message}.`, {
      fixText: REFUSAL_FIX_TEXT[refusal.reason],
      ...(binding ? { binding } : {}),
    });
  }
  if (!binding) {
    throw new ActivationError(
      'unknown_activation',
      'We have not received Magento\'s callback for this integration. Check that the integration\'s Callback URL ' +
        'and Identity Link URL are both ours, then click Activate again.',
      { fix: 'activate_again' },
    );
  }
  return binding;
}

/**
 * The popup's first page: the binding to sign in for, or an ActivationError to show instead. A failed or revoked
 * binding with nothing in progress cannot be finished by signing in: say so at once, with the fix, instead of forms
 * that would only lead to the same page.
 */
export async function identityPage(deps: ActivationDeps, consumerKey: string, scope: ActivationScope = { accountId: null }): Promise<Binding> {
  const b = await knownBinding(deps, consumerKey, scope);
  if (cannotBeCompleted(b)) {
    throw new ActivationError('activation_failed', b.lastError ?? 'This activation can no longer be completed.', {
      fix: b.fix ?? fallbackFix(b),
      binding: b,
    });
  }
  return b;
}

