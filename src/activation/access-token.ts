// Step 2, once the merchant has signed in in the popup: wait for (or fetch) the request token, trade it for the
// access token and record the account as the owner.
import { sleep } from '../clock.js';
import { failedBeforeSending as neverSent, isTransportError } from '../protocol/failures.js';
import { MagentoOAuthProblem, UnexpectedStoreResponse } from '../protocol/magento-errors.js';
import type { Binding, Fix, TokenPair } from '../storage/types.js';
import { consumerKeyHash } from './callback.js';
import { errorMessage, transitionEvents, type ActivationDeps } from './deps.js';
import { ActivationError, storeText } from './errors.js';
import { knownBinding, type ActivationScope } from './identity.js';
import { recordActivationStep } from './timeline.js';
import { NO_CONSUMER } from './request-token.js';
import { accessTokenClaimed, accessTokenFailed, accessTokenIssued, fallbackFix, isClaimed, type AccessTokenFailure } from './transitions.js';

type FetchRequestToken = (bindingId: string, options: { ignoreBackoff?: boolean }) => Promise<Binding | null>;

/**
 * Finishes the activation of `consumerKey` for `accountId`. Idempotent for the owner of an active binding. When
 * nobody is fetching the request token (the instance that took the callback died, or is backing off), the popup
 * fetches it itself: a person is waiting.
 */
export async function completeForAccount(
  deps: ActivationDeps,
  fetchRequestToken: FetchRequestToken,
  consumerKey: string,
  accountId: string,
  scope: ActivationScope = { accountId: null },
  /** Called once the access token is stored (the background profile detection starts there). */
  onIssued?: (binding: Binding) => void,
): Promise<Binding> {
  if (scope.accountId && scope.accountId !== accountId) {
    throw new ActivationError('not_a_member', 'This activation link belongs to another account: sign in with the account whose link this is.');
  }
  const { storage, durations, clock } = deps;
  const deadline = clock.now().getTime() + durations.requestTokenWaitMs;
  let triedNow = false;
  for (;;) {
    const b = await knownBinding(deps, consumerKey, scope);
    if (b.accountId && b.accountId !== accountId) {
      throw new ActivationError(
        'owned_by_other_account',
        'This store is already connected to another account. Sign in with that account, or ask its owner to ' +
          'remove the store first.',
        { binding: b },
      );
    }
    const busy = isClaimed(b, clock.now());
    if (b.requestToken && !busy) {
      const done = await exchange(deps, b, accountId, onIssued);
      if (done) return done;
      continue; // lost the claim to a concurrent sign-in: look again
    }
    if (!b.requestToken && !b.verifier) {
      // Already connected, unless the last Reauthorize failed (it left a fix; Magento killed the old token then).
      if (b.state === 'active' && b.accountId === accountId && !b.fix) return b;
      throw new ActivationError('activation_failed', b.lastError ?? 'This activation can no longer be completed.', {
        fix: b.fix ?? fallbackFix(b),
        binding: b,
      });
    }
    if (!busy && b.verifier && !b.requestToken) {
      // The first try ignores the backoff (the store may be back); later ones respect it.
      await fetchRequestToken(b.id, { ignoreBackoff: !triedNow });
      triedNow = true;
      const after = await storage.bindings.byId(b.id);
      if (after && !after.requestToken && after.nextAttemptAt && after.verifier && clock.now().getTime() < deadline) {
        await sleep(Math.min(Math.max(after.nextAttemptAt.getTime() - clock.now().getTime(), 50), 1_000));
      }
    } else if (clock.now().getTime() < deadline) {
      await sleep(200);
    }
    if (clock.now().getTime() >= deadline) {
      throw new ActivationError(
        'still_connecting',
        'Your store is taking long to answer. Wait a minute and sign in again; if it keeps happening, check that ' +
          'the store is reachable.',
      );
    }
  }
}

/** Claims the access-token step and runs it; null when another sign-in claimed it first. */
async function exchange(deps: ActivationDeps, b: Binding, accountId: string, onIssued?: (binding: Binding) => void): Promise<Binding | null> {
  const { storage, durations, logger, tokenEndpoints, clock } = deps;
  const held = b.requestToken!;
  const claimed = await storage.bindings.update(b.id, b.version, accessTokenClaimed(b, { now: clock.now(), leaseMs: durations.stepLeaseMs, accountId }));
  if (!claimed) return null;
  const call = () =>
    tokenEndpoints.accessToken(
      { storeBaseUrl: b.storeBaseUrl, consumerKey: b.consumerKey, consumerSecret: b.consumerSecret },
      { token: held.token, secret: held.secret },
      held.verifier,
    );
  let pair: TokenPair;
  try {
    pair = await call();
  } catch (err) {
    // The answer was lost after the call may have reached Magento: ask once more at once, so the merchant gets a
    // definite outcome now (a token, or Magento's refusal, which then means it did act) rather than "try again".
    if (!isTransportError(err) || neverSent(err)) return failed(deps, claimed, held.token, err, false);
    logger.warn({ bindingId: b.id, err: errorMessage(err) }, 'access token: answer lost, asking again');
    try {
      pair = await call();
    } catch (again) {
      return failed(deps, claimed, held.token, again, true);
    }
  }
  const now = clock.now();
  logger.info({ bindingId: b.id, consumerKeyHash: consumerKeyHash(b.consumerKey).slice(0, 12), accountId }, 'access token received: store connected');
  const event = { accountId, pair, requestToken: held.token, verifier: held.verifier, now };
  const done = (await storage.bindings.modify(b.id, (cur) => accessTokenIssued(cur, event), claimed, transitionEvents(deps)))!;
  await recordActivationStep(deps, b.id, 'access_token', `Magento issued the access token: store connected to account ${accountId}`);
  onIssued?.(done);
  return done;
}

async function failed(deps: ActivationDeps, claimed: Binding, requestToken: string, err: unknown, afterLostAnswer: boolean): Promise<never> {
  const failure = classify(deps, claimed, err, afterLostAnswer);
  deps.logger.warn({ bindingId: claimed.id, message: failure.message }, 'access token failed');
  await recordActivationStep(deps, claimed.id, 'access_token', failure.message);
  const now = deps.clock.now();
  const updated = await deps.storage.bindings.modify(claimed.id, (cur) => accessTokenFailed(cur, { requestToken, failure, now }), claimed, transitionEvents(deps));
  throw new ActivationError('activation_failed', failure.message, { fix: failure.fix, ...(updated ? { binding: updated } : {}) });
}

/** What a failed access-token call means, and the fix: it depends on whether Magento may have acted on it. */
export function classify(deps: ActivationDeps, claimed: Binding, err: unknown, afterLostAnswer: boolean): AccessTokenFailure {
  // After a lost answer we cannot know whether Magento issued the access token; if it did, Magento shows the
  // integration Active while we hold nothing, and the request token is gone: only Reauthorize repairs that.
  const outcomeWasUnknown = afterLostAnswer || claimed.accessOutcomeUnknown;
  if (err instanceof MagentoOAuthProblem) {
    const fix: Fix = NO_CONSUMER.test(err.problem)
      ? 'recreate_integration'
      : /already being used/i.test(err.problem) || outcomeWasUnknown || claimed.state === 'active'
        ? 'reauthorize'
        : 'activate_again';
    return { message: `Magento refused the access token: ${storeText(err.problem)}`, fix, keepRequestToken: false, outcomeUnknown: false };
  }
  if (isTransportError(err) || err instanceof UnexpectedStoreResponse) {
    // The request token is still ours to try again with: the merchant can sign in again in a moment.
    return neverSent(err)
      ? { message: `Could not reach the store to finish connecting: ${storeText(errorMessage(err))}. Try again in a moment.`, fix: null, keepRequestToken: true, outcomeUnknown: false }
      : { message: `The store did not answer our access-token request: ${storeText(errorMessage(err))}. Try again in a moment.`, fix: null, keepRequestToken: true, outcomeUnknown: true };
  }
  deps.logger.error({ bindingId: claimed.id, err }, 'access token: unexpected error');
  return { message: 'Unexpected error while fetching the access token.', fix: 'contact_support', keepRequestToken: false, outcomeUnknown: false };
}
