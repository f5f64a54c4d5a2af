// Small middleware, one job each.
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../log.js';
import { redactActivationToken } from '../activation/account-urls.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Every request gets an id of ours (`requestId`: logs, error pages' "reference"), which nobody outside can choose or
 * make collide with another request's. A caller's own sane X-Request-Id is kept beside it (`callerRequestId`, logged
 * with ours) and echoed back; without one, the response carries ours.
 */
export async function requestId(ctx: Context, next: Next): Promise<void> {
  const given = ctx.get('X-Request-Id');
  ctx.state.requestId = randomUUID();
  if (REQUEST_ID.test(given)) ctx.state.callerRequestId = given;
  ctx.set('X-Request-Id', ctx.state.callerRequestId ?? ctx.state.requestId);
  await next();
}

/**
 * One access-log line per request, without query strings (they can carry customer data) or credentials (an
 * activation URL's token is logged as a short hash, issue 13).
 */
export function accessLog(logger: Logger) {
  // The level is fixed at start: when request lines are off, this middleware is not in the chain at all.
  if (!logger.isLevelEnabled('info')) return (_ctx: Context, next: Next) => next();
  // The line's fields are these six, none a credential (the caller's id is checked against REQUEST_ID, the path has
  // no query and its activation token is replaced by a hash): the logger's redaction paths can never match them,
  // and checking them cost 10-15 µs per request, twice the rest of the line (issue 16). A child without redaction
  // writes them to the same destination; every other line of the service is still redacted.
  const lines = logger.child({}, { redact: [] });
  return async function accessLog(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      lines.info(
        { requestId: ctx.state.requestId, callerRequestId: ctx.state.callerRequestId, method: ctx.method, path: redactActivationToken(ctx.path), status: ctx.status, ms: Math.round(ms * 10) / 10 },
        'request',
      );
    }
  };
}

/** Baseline security headers for every page and answer. */
export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  await next();
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  // Beside the CSP's frame-ancestors, for browsers without it. Magento opens the Identity Link in a top-level window
  // (window.open, docs/magento-protocol.md §3), never in a frame, so nothing of ours needs to be framed.
  ctx.set('X-Frame-Options', 'DENY');
  // A route that set its own (the proxy's sandbox for a store's answers) keeps it.
  if (ctx.response.type === 'text/html' && !ctx.response.get('Content-Security-Policy')) {
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'");
  }
}
