// The HTTP layer's own errors (a missing API key, an unknown route, a form that failed its CSRF check...) and the
// one adapter that turns whatever a step throws into a ConnectorError. How an error is shown is decided elsewhere:
// its status by ERROR_STATUS (error-status.ts), its rendering by handleErrors (error-handler.ts).
import { ConnectorError, type ConnectorErrorOptions } from '../errors.js';
import { StorageUnavailableError } from '../storage/errors.js';

export type HttpErrorCode =
  | 'unauthorized'
  | 'not_found'
  | 'method_not_allowed'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'bad_request'
  | 'csrf_failed'
  | 'session_required'
  | 'identity_link_incomplete'
  | 'identity_link_garbled'
  | 'api_key_not_found'
  | 'database_unavailable'
  | 'secrets_unavailable'
  | 'metrics_unavailable'
  | 'internal_error';

export interface HttpErrorOptions extends ConnectorErrorOptions {
  /** Response headers that belong to this answer (WWW-Authenticate, Allow). */
  headers?: Record<string, string>;
}

export class HttpError extends ConnectorError<HttpErrorCode> {
  readonly headers: Record<string, string>;
  constructor(code: HttpErrorCode, message: string, options: HttpErrorOptions = {}) {
    super(code, message, options);
    this.headers = options.headers ?? {};
  }
}

export const internalError = (requestId: string) =>
  new HttpError('internal_error', `Something went wrong on our side (request ${requestId}).`);

const DATABASE_UNAVAILABLE = 'The connector cannot reach its database right now. Try again in a moment.';

interface StatusCarrier {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

/**
 * What was thrown, as a ConnectorError; null for what nobody raised on purpose (a bug: the handler answers 500 and
 * logs it). Every layer's errors extend ConnectorError; body parsers and Koa throw errors with a 4xx `status`
 * (413, 415, 400): they keep it, with our code.
 */
export function toConnectorError(err: unknown): ConnectorError | null {
  // The storage layer's message names the driver's failure; a person is told what it means for them.
  if (err instanceof StorageUnavailableError) {
    return new HttpError('database_unavailable', DATABASE_UNAVAILABLE, { retryAfterSeconds: 5, cause: err });
  }
  if (err instanceof ConnectorError) return err;
  const e = err as StatusCarrier | null;
  const status = e?.status ?? e?.statusCode;
  // Only client errors keep their own status: anything else unknown is a 500 of ours.
  if (!status || status < 400 || status >= 500) return null;
  if (status === 413) return new HttpError('body_too_large', 'The request body is too large.', { cause: err });
  if (status === 415) return new HttpError('unsupported_media_type', e?.message ?? 'Unsupported content type.', { cause: err });
  return new HttpError('bad_request', e?.expose && e.message ? e.message : 'The request could not be read.', { cause: err });
}
