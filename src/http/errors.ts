// Errors the connector itself answers with. Every one maps to one response shape: the status, the header
// `X-Connector-Error: <code>` and the body {"error": {"code", "message"}}, so a caller can always tell our errors
// from Magento's (which pass through the proxy untouched and never carry the header).
import type { Context, Next } from 'koa';
import type { AccountError } from '../accounts/accounts.js';
import type { Logger } from '../log.js';
import { StorageUnavailableError } from '../storage/errors.js';

export class ConnectorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

export function sendError(ctx: Context, err: ConnectorError): void {
  ctx.status = err.status;
  for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
  ctx.set('X-Connector-Error', err.code);
  ctx.body = { error: { code: err.code, message: err.message } };
}

interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  message?: string;
}

/**
 * Errors thrown by body parsers and Koa itself (413, 415, 400) carry a status; keep it, with a clear message. A
 * database outage is a 503 that says so.
 */
export function fromHttpish(err: unknown): ConnectorError | null {
  if (err instanceof ConnectorError) return err;
  if (err instanceof StorageUnavailableError) {
    return new ConnectorError(503, 'database_unavailable', 'The connector cannot reach its database right now. Try again in a moment.', {
      'Retry-After': '5',
    });
  }
  const e = err as HttpishError | null;
  const status = e?.status ?? e?.statusCode;
  // Only client errors keep their own status: anything else unknown is a 500 of ours.
  if (!status || status < 400 || status >= 500) return null;
  if (status === 413) return new ConnectorError(413, 'body_too_large', 'The request body is too large.');
  if (status === 415) return new ConnectorError(415, 'unsupported_media_type', e?.message ?? 'Unsupported content type.');
  return new ConnectorError(status, 'bad_request', e?.expose && e.message ? e.message : 'The request could not be read.');
}

/**
 * The outermost error handler for JSON routes: ConnectorErrors and parser errors become our error shape; anything
 * else is logged with the request id and answered 500 without details.
 */
export function jsonErrors(logger: Logger) {
  return async function jsonErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const known = fromHttpish(err);
      if (known) {
        if (known.status >= 500) logger.warn({ requestId: ctx.state.requestId, err: (err as Error).message }, known.code);
        return sendError(ctx, known);
      }
      logger.error({ err, requestId: ctx.state.requestId }, 'unhandled error');
      sendError(ctx, new ConnectorError(500, 'internal_error', `Something went wrong on our side (request ${ctx.state.requestId}).`));
    }
  };
}

/** How the sign-in and sign-up forms (popup and account page) answer each account error. */
export const ACCOUNT_ERROR_STATUS: Record<AccountError['code'], number> = {
  invalid_email: 400,
  invalid_password: 400,
  email_taken: 409,
  bad_credentials: 401,
  throttled: 429,
};
