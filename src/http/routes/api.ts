// The CRM-facing API: the account's stores, and the signed proxy to each store's REST API. Authenticated with
// `Authorization: Bearer <api key>`; a key sees only its own account's stores.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import getRawBody from 'raw-body';
import { fixText } from '../../activation/fixes.js';
import { CallError, StoreNotFoundError } from '../../calls/errors.js';
import type { StoreCalls } from '../../calls/store-calls.js';
import { parseFormEncoded, type QueryPair } from '../../protocol/encoding.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { Binding } from '../../storage/types.js';
import type { ApiKeyCache } from '../auth.js';
import { requireKey } from '../operator-auth.js'; // crm
import type { HttpServices } from '../context.js';
import { ConnectorError } from '../errors.js';
import { listForOperator, OperatorStoresQuery } from './operator-stores.js'; // crm
import { operatorErrors, parseWith, queryObject } from './operator-http.js'; // crm

const CALL_STATUS: Record<CallError['code'], number> = {
  store_not_found: 404,
  store_not_active: 409,
  store_revoked: 409,
  store_busy: 503,
  request_refused: 400,
  store_unreachable: 502,
  store_timeout: 504,
  response_too_large: 502,
  magento_error: 502,
};

export function fromCallError(err: unknown): unknown {
  if (err instanceof CallError) {
    const headers: Record<string, string> = err.code === 'store_busy' ? { 'Retry-After': '1' } : {};
    return new ConnectorError(CALL_STATUS[err.code], err.code, err.message, headers);
  }
  return err;
}

/** What a caller sees of a binding: never a secret or a token. */
export function storeView(b: Binding) {
  return {
    id: b.id,
    accountId: b.accountId, // crm
    state: b.state,
    storeBaseUrl: b.storeBaseUrl,
    consumerKey: b.consumerKey,
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
    activatedAt: b.activatedAt?.toISOString() ?? null,
    revokedAt: b.revokedAt?.toISOString() ?? null,
    /** A newer Activate/Reauthorize is being completed while the current token keeps working. */
    reauthorizing: b.state === 'active' && (b.verifier !== null || b.requestToken !== null),
    lastError: b.lastError
      ? { message: b.lastError, at: b.lastErrorAt?.toISOString() ?? null, fix: fixText(b.fix) }
      : null,
  };
}

// Magento's REST API reads JSON and XML bodies only.
const BODY_TYPES = ['application/json', 'application/xml', 'text/xml', '+json', '+xml'];

export function apiRoutes(s: HttpServices & { calls: StoreCalls; keys: ApiKeyCache }): Router {
  const router = new Router({ prefix: '/api' });
  // crm: account API keys and operator keys (an operator acts as the store's account on /stores/:id routes)
  const auth = requireKey(s, { storeOwner: true });

  async function callErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      throw fromCallError(err);
    }
  }

  router.get('/stores', auth, operatorErrors, async (ctx) => {
    // crm: an operator sees every store, or one account's with ?accountId=
    const bindings = ctx.state.operator
      ? await listForOperator(s, parseWith(OperatorStoresQuery, queryObject(ctx), 'query').accountId)
      : await s.storage.bindings.listByAccount(ctx.state.accountId);
    ctx.body = { stores: bindings.map(storeView) };
  });

  router.get('/stores/:id', auth, callErrors, async (ctx) => {
    s.calls.forget(ctx.params.id!);
    ctx.body = storeView(await s.calls.binding(ctx.state.accountId, ctx.params.id!));
  });

  router.delete('/stores/:id', auth, async (ctx) => {
    const deleted = await s.storage.bindings.delete(ctx.params.id!, ctx.state.accountId);
    s.calls.forget(ctx.params.id!);
    if (!deleted) throw fromCallError(new StoreNotFoundError());
    s.logger.info({ bindingId: ctx.params.id, accountId: ctx.state.accountId }, 'store binding deleted by its account');
    ctx.status = 204;
  });

  // ---- the proxy: ANY /api/stores/:id/rest/<path> ------------------------------------------------------------

  /** The caller's query, read as a form (`+` is a space), refused when Magento could not verify it. */
  async function readQuery(ctx: Context, next: Next): Promise<void> {
    try {
      ctx.state.queryPairs = parseFormEncoded(ctx.querystring) satisfies QueryPair[];
    } catch (err) {
      if (err instanceof ProtocolError) throw new ConnectorError(400, 'request_refused', err.message);
      throw err;
    }
    await next();
  }

  /** JSON and XML bodies pass byte for byte; anything else is refused, since Magento would refuse it. */
  async function readBody(ctx: Context, next: Next): Promise<void> {
    const length = ctx.request.length;
    const hasBody = (length !== undefined && length > 0) || ctx.get('Transfer-Encoding') !== '';
    if (hasBody) {
      const type = ctx.request.type.toLowerCase();
      if (!BODY_TYPES.some((t) => (t.startsWith('+') ? type.endsWith(t) : type === t))) {
        throw new ConnectorError(
          415,
          'unsupported_media_type',
          `Magento's REST API accepts JSON or XML bodies only, not ${type || 'a body without Content-Type'}.`,
        );
      }
      ctx.state.rawBody = await getRawBody(ctx.req, { limit: s.config.limits.maxRequestBodyBytes, length });
    }
    await next();
  }

  async function forward(ctx: Context): Promise<void> {
    const prefix = `/api/stores/${ctx.params.id}/rest/`;
    // The raw path after /rest/, percent-escapes as the caller sent them (the signer canonicalises or refuses them).
    const path = ctx.path.slice(ctx.path.indexOf('/rest/') + '/rest/'.length);
    if (!ctx.path.startsWith(prefix) || path === '') throw new ConnectorError(404, 'not_found', 'Give a REST path after /rest/, e.g. /rest/V1/products.');
    // A caller that hangs up does not keep a store connection (and retries) busy on its behalf.
    const hangUp = new AbortController();
    const onClose = () => {
      if (!ctx.res.writableFinished) hangUp.abort();
    };
    ctx.res.once('close', onClose);
    const response = await s.calls.send(ctx.state.accountId, ctx.params.id!, {
      method: ctx.method,
      path,
      query: ctx.state.queryPairs,
      body: ctx.state.rawBody,
      contentType: ctx.state.rawBody ? ctx.get('Content-Type') : undefined,
      accept: ctx.get('Accept') || undefined,
      signal: hangUp.signal,
    });
    ctx.res.off('close', onClose);
    ctx.status = response.status;
    for (const name of ['content-type', 'retry-after']) {
      const value = response.headers[name];
      if (value !== undefined) ctx.set(name, value);
    }
    ctx.body = response.body;
  }

  router.all('/stores/:id/rest/*path', auth, callErrors, readQuery, readBody, forward);

  // Everything else under /api is answered in our error shape too: Koa's plain-text 404 and 405 carry no
  // X-Connector-Error, so a caller could take them for Magento's.
  const allow = (methods: string) =>
    async function methodNotAllowed(ctx: Context): Promise<void> {
      ctx.set('Allow', methods);
      if (ctx.method === 'OPTIONS') {
        ctx.status = 204;
        return;
      }
      throw new ConnectorError(405, 'method_not_allowed', `${ctx.method} is not supported here; use ${methods}.`, { Allow: methods });
    };
  router.all('/stores', allow('GET, HEAD'));
  router.all('/stores/:id', allow('GET, HEAD, DELETE'));
  router.all('/stores/:id/rest', auth, () => {
    throw new ConnectorError(404, 'not_found', 'Give a REST path after /rest/, e.g. /rest/V1/products.');
  });
  router.all(['/', '/*rest'], (ctx) => {
    throw new ConnectorError(
      404,
      'not_found',
      `No such API route: ${ctx.method} ${ctx.path.slice(0, 200)}. The API is GET /api/stores, GET and DELETE /api/stores/:id, ANY /api/stores/:id/rest/<path>.`,
    );
  });
  return router;
}
