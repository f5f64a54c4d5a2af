// How a failed call to a store is classified, for callers deciding whether to try again (activation, REST client).
import { UnexpectedStoreResponse } from './magento-errors.js';
import { EgressDeniedError, TransportError, UpstreamTimeoutError, UpstreamUnreachableError } from './transport-errors.js';

export function isTransportError(err: unknown): err is TransportError {
  return err instanceof TransportError;
}

/** Worth another attempt later: the store could not be reached or was briefly unavailable. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof UnexpectedStoreResponse) return err.retryable;
  return err instanceof UpstreamTimeoutError || err instanceof UpstreamUnreachableError;
}

/** True when the request certainly never reached the store (so it cannot have been acted on). */
export function failedBeforeSending(err: unknown): boolean {
  if (err instanceof EgressDeniedError) return true;
  if (err instanceof UpstreamTimeoutError || err instanceof UpstreamUnreachableError) return err.phase === 'connect';
  return false;
}
