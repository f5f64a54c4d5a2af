// Step 1, in the background after the callback: claim the step, ask Magento for a request token, classify the
// outcome and apply it as a transition. Transport failures are retried with backoff inside Magento's window.
import { backoffDelayMs } from '../protocol/backoff.js';
import { isRetryable, isTransportError } from '../protocol/failures.js';
import { MagentoOAuthProblem, UnexpectedStoreResponse } from '../protocol/magento-errors.js';
import type { Binding, Fix, TokenPair } from '../storage/types.js';
import { consumerKeyHash } from './callback.js';
import { errorMessage, transitionEvents, type ActivationDeps } from './deps.js';
import { storeText } from './errors.js';
import { recordActivationStep } from './timeline.js';
import {
  isClaimed,
  requestTokenClaimed,
  requestTokenFailed,
  requestTokenIssued,
  windowClosed,
  windowHasClosed,
  type RequestTokenFailure,
} from './transitions.js';

// Magento's messages that tell us what its token rows look like (docs/magento-protocol.md §4a).
const NOT_A_VERIFIER = /not a verifier token/i;
const EXPIRED = /Consumer key has expired/i;
export const NO_CONSUMER = /consumer having the specified key does not exist|consumer does not exist/i;

/**
 * One attempt at the request token for the binding's newest verifier, if it has one, nobody else holds the step and
 * a retry is due (`ignoreBackoff`: a person is waiting in the popup).
 */
export async function fetchRequestToken(
  deps: ActivationDeps,
  bindingId: string,
  options: { ignoreBackoff?: boolean } = {},
): Promise<Binding | null> {
  const { storage, clock, durations, logger, tokenEndpoints } = deps;
  const b = await storage.bindings.byId(bindingId);
  if (!b || !b.verifier) return b;
  const now = clock.now();
  if (isClaimed(b, now)) return b; // another instance is on it
  if (!options.ignoreBackoff && b.nextAttemptAt && b.nextAttemptAt > now) return b; // backing off
  const verifier = b.verifier;
  if (windowHasClosed(b, now, durations.magentoWindowMs)) {
    await recordActivationStep(deps, b.id, 'request_token', "not fetched: Magento's 300 s window after the callback has closed");
    return storage.bindings.modify(b.id, (cur) => windowClosed(cur, { verifier, now }), b, transitionEvents(deps));
  }

  // A plain conditional update: if it fails, someone else claimed the step first.
  const claimed = await storage.bindings.update(b.id, b.version, requestTokenClaimed(b, { now, leaseMs: durations.stepLeaseMs }));
  if (!claimed) return storage.bindings.byId(bindingId);

  let pair: TokenPair;
  try {
    pair = await tokenEndpoints.requestToken({ storeBaseUrl: b.storeBaseUrl, consumerKey: b.consumerKey, consumerSecret: b.consumerSecret });
  } catch (err) {
    const failure = classify(deps, claimed, err);
    const at = clock.now();
    await recordActivationStep(deps, b.id, 'request_token', `attempt ${claimed.stepAttempts}: ${failure.message}${failure.kind === 'retry' ? ' (will retry)' : ''}`);
    return storage.bindings.modify(claimed.id, (cur) => requestTokenFailed(cur, { verifier, failure, now: at }), claimed, transitionEvents(deps));
  }
  logger.info({ bindingId, consumerKeyHash: consumerKeyHash(b.consumerKey).slice(0, 12), attempt: claimed.stepAttempts }, 'request token received');
  await recordActivationStep(deps, bindingId, 'request_token', `attempt ${claimed.stepAttempts}: Magento issued a request token`);
  const at = clock.now();
  return storage.bindings.modify(bindingId, (cur) => requestTokenIssued(cur, { pair, verifier, at }), claimed, transitionEvents(deps));
}

/** What a failed request-token call means for the binding (and the log line it deserves). */
function classify(deps: ActivationDeps, claimed: Binding, err: unknown): RequestTokenFailure {
  const { logger, durations, clock } = deps;
  if (isTransportError(err) || err instanceof UnexpectedStoreResponse) {
    const retryAt = new Date(clock.now().getTime() + backoffDelayMs(claimed.stepAttempts - 1, { baseDelayMs: durations.retryBaseDelayMs, maxDelayMs: durations.retryMaxDelayMs }));
    const message = `Could not get a request token from the store: ${storeText(errorMessage(err))}`;
    logger.warn({ bindingId: claimed.id, attempt: claimed.stepAttempts, err: errorMessage(err) }, 'request token: store unavailable');
    if (isRetryable(err) && !windowHasClosed(claimed, retryAt, durations.magentoWindowMs)) return { kind: 'retry', retryAt, message };
    return { kind: 'final', message, fix: 'check_store' };
  }
  if (err instanceof MagentoOAuthProblem) {
    logger.warn({ bindingId: claimed.id, status: err.status, problem: storeText(err.problem) }, 'request token refused by Magento');
    const message = `Magento refused the request token: ${storeText(err.problem)}`;
    if (NOT_A_VERIFIER.test(err.problem)) return { kind: 'not_a_verifier', message };
    const fix: Fix = EXPIRED.test(err.problem) ? 'activate_again' : NO_CONSUMER.test(err.problem) ? 'recreate_integration' : 'activate_again';
    return { kind: 'final', message, fix };
  }
  logger.error({ bindingId: claimed.id, err }, 'request token: unexpected error');
  return { kind: 'final', message: 'Unexpected error while fetching the request token.', fix: 'contact_support' };
}
