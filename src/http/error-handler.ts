// The one place errors become responses. `/api`, the Callback URL and the health checks answer in our JSON shape:
// the status, `X-Connector-Error: <code>` and {"error": {"code", "message"}}, so a caller can always tell our errors
// from Magento's (which pass through the proxy untouched and never carry the header). Every other route is a page a
// person reads in a browser (the popup, the account pages), so it answers with the site's error page, for unknown
// pages (404), wrong methods (405) and our own failures (500) too: never JSON, never plain text.
import type { Metrics } from '../metrics/metrics.js';
import type { Context, Next } from 'koa';
import type { ConnectorError } from '../errors.js';
import type { Logger } from '../log.js';
import { drainRequest } from './drain.js';
import { hasStatus, pageTitleOf, statusOf } from './error-status.js';
import { HttpError, internalError, toConnectorError } from './errors.js';
import type { BaseState } from './state.js';
import type { Render } from './views.js';

const KEPT_HEADERS = new Set(['x-request-id', 'set-cookie']);

const JSON_PATHS = /^\/(?:api(?:\/|$)|magento\/callback(?:\/|$)|healthz$|readyz$|metrics$)/;

/** Routes read by programs (JSON errors); everything else is read by people (error pages). */
export function answersJson(path: string): boolean {
  return JSON_PATHS.test(path);
}

/** Pages shown in the popup Magento opens (they may offer to close it). */
export function inPopup(path: string): boolean {
  return path === '/magento/identity' || path.startsWith('/magento/identity/');
}

interface StoreRef {
  storeBaseUrl: string;
}

function storeOf(value: unknown): StoreRef | undefined {
  const binding = (value as { binding?: Partial<StoreRef> } | null | undefined)?.binding;
  return typeof binding?.storeBaseUrl === 'string' ? { storeBaseUrl: binding.storeBaseUrl } : undefined;
}

export interface ErrorHandlerDeps {
  logger: Logger;
  render: Render;
  /** connector_database_errors_total (src/metrics/metrics.ts). */
  operators?: { metrics: Pick<Metrics, 'databaseError'> };
}

export function handleErrors({ logger, render, operators }: ErrorHandlerDeps) {
  function asConnectorError(ctx: Context, err: unknown): ConnectorError {
    const known = toConnectorError(err);
    if (!known) {
      logger.error({ err, requestId: ctx.state.requestId, callerRequestId: ctx.state.callerRequestId }, 'unhandled error');
      return internalError(ctx.state.requestId);
    }
    if (known.code === 'database_unavailable' || known.code === 'storage_error') operators?.metrics.databaseError();
    if (!hasStatus(known.code)) {
      // A layer raised a code the table does not know: answered as a 500, and loud, so it gets its row.
      logger.error({ requestId: ctx.state.requestId, callerRequestId: ctx.state.callerRequestId, err: known.message, code: known.code }, 'no HTTP status for this error code (error-status.ts)');
    } else if (statusOf(known.code) >= 500) {
      logger.warn({ requestId: ctx.state.requestId, callerRequestId: ctx.state.callerRequestId, err: known.message, code: known.code }, known.code);
    }
    return known;
  }

  function sendJson(ctx: Context, err: ConnectorError): void {
    ctx.set('X-Connector-Error', err.code);
    ctx.body = { error: { code: err.code, message: err.message } };
  }

  function sendPage(ctx: Context, err: ConnectorError): void {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    // The store the page is about: the error's own (an activation error names it), else the one the route loaded.
    const binding = storeOf(err) ?? storeOf(err.cause) ?? (ctx.state.binding as StoreRef | undefined);
    // Steps may have said where to start again, or that the page is in the popup (state.ts BaseState).
    const { retry, inPopup: popupByStep } = ctx.state as Partial<BaseState>;
    const popup = inPopup(ctx.path) || popupByStep === true;
    ctx.body = render('message.njk', {
      title: pageTitleOf(err.code),
      message: err.message,
      fix: err.fix,
      storeUrl: binding?.storeBaseUrl,
      requestId: ctx.state.requestId,
      link: retry,
      popup,
      // Where a person goes from a dead end outside the popup.
      homeLink: !popup,
    });
  }

  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    let error: ConnectorError;
    try {
      await next();
      if (ctx.body != null || (ctx.status !== 404 && ctx.status !== 405)) return;
      // No route answered: the routers left Koa's empty 404, or allowedMethods' 405 with its Allow header.
      error =
        ctx.status === 405
          ? new HttpError('method_not_allowed', `${ctx.method} is not supported at this address${ctx.response.get('Allow') ? `; it takes ${ctx.response.get('Allow')}` : ''}.`)
          : new HttpError('not_found', answersJson(ctx.path) ? `No such route: ${ctx.method} ${ctx.path.slice(0, 200)}.` : 'There is no page at this address.', {
              fix: answersJson(ctx.path) ? null : 'Check the address, or start from your account page.',
            });
    } catch (err) {
      if (ctx.headerSent || !ctx.writable) throw err; // too late to answer: Koa's own handler logs it
      error = asConnectorError(ctx, err);
      // Headers a step set for the success that did not come (a content type, a redirect) do not belong to the
      // error; cookies do (a session started before a later step failed stays started, as it is in the database).
      for (const name of ctx.res.getHeaderNames()) if (!KEPT_HEADERS.has(name)) ctx.res.removeHeader(name);
    }
    // Read what the client is still sending before answering, so it sees the answer rather than a reset.
    if (!(await drainRequest(ctx.req))) ctx.set('Connection', 'close');
    ctx.status = statusOf(error.code);
    if (error instanceof HttpError) for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
    if (error.retryAfterSeconds) ctx.set('Retry-After', String(error.retryAfterSeconds));
    if (answersJson(ctx.path)) sendJson(ctx, error);
    else sendPage(ctx, error);
  };
}
