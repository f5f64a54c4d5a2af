// The CRM-facing API: the account's stores, and the signed proxy to each store's REST API. Authenticated with
// `Authorization: Bearer <api key>`; a key sees only its own account's stores. Errors: error-handler.ts.
import Router from '@koa/router';
import type { ServerResponse } from 'node:http';
import type { Middleware, ParameterizedContext } from 'koa';
import getRawBody from 'raw-body';
import { RequestRefusedError } from '../../store-api/errors.js';
import { graphqlCall } from '../../store-api/graphql.js';
import { parseFormEncoded } from '../../protocol/query.js';
import type { RestResponse } from '../../protocol/rest-client.js';
import type { CallSignal, CallSignalListener } from '../../protocol/transport.js';
import { QueryError } from '../../protocol/errors.js';
import { requireKey } from '../operator-auth.js';
import type { HttpServices } from '../context.js';
import { HttpError } from '../errors.js';
import type { ApiState } from '../state.js';
import type { HoldUntil } from '../../store-api/limits.js';
import type { StoreView } from '../../store-api/store-view.js';
import { openApiDocument } from '../openapi.js';
import { ERROR_STATUS } from '../error-status.js';
import { encodeCursor, parseWith, queryObject } from './operator-http.js';
import { listForOperator, OperatorStoresQuery } from './operator-stores.js';

// Magento's REST API reads JSON and XML bodies only.
const BODY_TYPES = ['application/json', 'application/xml', 'text/xml', '+json', '+xml'];

/**
 * A store answer the proxy passes inline: JSON (application/json, any +json) or Magento's XML (application/xml,
 * text/xml), by type/subtype. Other +xml types stay attachments: image/svg+xml and application/xhtml+xml are
 * documents a browser runs scripts in.
 */
export function isJsonOrXml(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  if (typeof value !== 'string') return false;
  // What Magento sends for REST answers, checked before parsing the type (issue 16).
  if (value === 'application/json; charset=utf-8' || value === 'application/json') return true;
  const type = value.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type === 'application/xml' || type === 'text/xml' || /^application\/[\w.+-]+\+json$/.test(type);
}

// On every proxied answer: should a browser ever render one (XML can carry XHTML-namespaced scripts), it runs
// nothing and loads nothing, as a sandboxed document of no origin.
const PROXIED_CSP = "default-src 'none'; sandbox";

/** Magento's status, content type and body as they came, served so that nothing a store returns runs as our page. */
function sendStoreAnswer(ctx: ParameterizedContext<ApiState>, response: RestResponse): void {
  ctx.status = response.status;
  for (const name of ['content-type', 'retry-after']) {
    const value = response.headers[name];
    if (value !== undefined) ctx.set(name, value);
  }
  // A store's HTML (or anything else a browser would render) must not be served as a page of our origin, where
  // it could script against our cookies: only JSON and XML are passed as they are (nosniff: middleware.ts).
  if (!isJsonOrXml(response.headers['content-type'])) ctx.set('Content-Disposition', 'attachment');
  ctx.set('Content-Security-Policy', PROXIED_CSP);
  ctx.body = response.body;
}

/**
 * A signed call's (the proxy's, GraphQL's) one 'close' listener on its caller's response. Before the answer is
 * written, a hang-up aborts the call: a caller who left does not keep a store connection (and retries) busy. After
 * it, the call's slot and its answer's bytes are released (issue 13: counted until the answer has been written, or
 * the caller left); a hold that comes after the close releases at once. It is itself the call's hang-up signal
 * (CallSignal, the shape of an AbortSignal without an EventTarget): one object per request, no closures (the
 * proxy's hot path).
 */
class CallerWatch implements CallSignal {
  aborted = false;
  readonly options: { holdUntil: HoldUntil };
  private release: (() => void) | undefined;
  private closed = false;
  /** The transport's and the retry wait's listeners, one at a time in practice. */
  private listeners: CallSignalListener[] | undefined;

  constructor(private readonly res: ServerResponse) {
    res.once('close', () => this.onClose());
    this.options = { holdUntil: this.hold.bind(this) };
  }

  addEventListener(_type: 'abort', listener: CallSignalListener): void {
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: CallSignalListener): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i !== -1) this.listeners!.splice(i, 1);
  }

  private hold(release: () => void): void {
    if (this.closed) release();
    else this.release = release;
  }

  private onClose(): void {
    this.closed = true;
    if (!this.res.writableFinished) this.abort();
    this.release?.();
  }

  private abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const l of listeners) typeof l === 'function' ? l() : l.handleEvent();
  }
}

export function apiRoutes(services: HttpServices): Router<ApiState> {
  const { config, stores, availability, storeViews, health } = services;
  const router = new Router<ApiState>({ prefix: '/api' });
  // Account API keys and operator keys (an operator acts as the store's account on /stores/:id routes).
  const auth = requireKey(services, { storeOwner: true });

  // The API's description (no authentication): generated from the schemas the routes validate with.
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument();
  });

  router.get('/stores', auth, async (ctx) => {
    // An operator sees every store, or one account's with ?accountId=.
    const withAvailability = (list: StoreView[]) => list.map((s) => ({ ...s, availability: availability.describe(s.consumerKey) }));
    if (ctx.state.operator) {
      const page = await listForOperator(services, parseWith(OperatorStoresQuery, queryObject(ctx), 'query'));
      ctx.body = { stores: withAvailability(page.items), next: encodeCursor(page.next) };
    } else {
      ctx.body = { stores: withAvailability(await stores.listStores(ctx.state.accountId)) };
    }
  });

  router.get('/stores/:id', auth, async (ctx) => {
    const store = await stores.getStore(ctx.state.accountId, ctx.params.id!);
    // Issue 15: availability (this instance's circuit) and the store views the integration can see (cached).
    ctx.body = {
      ...store,
      availability: availability.describe(store.consumerKey),
      storeViews: await storeViews.of(ctx.state.accountId, store.id),
    };
  });

  router.delete('/stores/:id', auth, async (ctx) => {
    await stores.deleteStore(ctx.state.accountId, ctx.params.id!);
    health.forget(ctx.params.id!);
    ctx.status = 204;
  });

  // The store doctor: cached for 5 minutes (DOCTOR_CACHE_TTL_MS); ?refresh=true runs the checks now.
  router.get('/stores/:id/health', auth, async (ctx) => {
    const refresh = ctx.query.refresh;
    if (refresh !== undefined && refresh !== 'true' && refresh !== 'false') {
      throw new RequestRefusedError('refresh must be true or false (?refresh=true runs the checks now).');
    }
    ctx.body = await health.check(ctx.state.accountId, ctx.params.id!, { refresh: refresh === 'true' });
  });


  // ---- POST /api/stores/:id/graphql -> {store_base_url}graphql, signed, JSON body and Store header ----
  router.post('/stores/:id/graphql', auth, async function forwardGraphql(ctx) {
    const type = ctx.request.type.toLowerCase();
    if (type !== 'application/json') {
      throw new HttpError('unsupported_media_type', `Send the GraphQL request as application/json ({"query": ..., "variables": ...}), not ${type || 'a body without Content-Type'}.`);
    }
    const body = await getRawBody(ctx.req, { limit: config.limits.maxRequestBodyBytes, length: ctx.request.length });
    const watch = new CallerWatch(ctx.res);
    const call = graphqlCall({ body, storeCode: ctx.get('Store') || undefined, signal: watch });
    const response = await stores.send(ctx.state.accountId, ctx.params.id!, call, watch.options);
    // Magento's answer unchanged: GraphQL errors come as HTTP 200 (or 500 before execution) with `errors`.
    sendStoreAnswer(ctx, response);
  });

  // Everything else under /api is answered in our error shape too: Koa's plain-text 404 and 405 carry no
  // X-Connector-Error, so a caller could take them for Magento's.
  const allow = (methods: string) =>
    function methodNotAllowed(ctx: Parameters<Middleware<ApiState>>[0]): void {
      ctx.set('Allow', methods);
      if (ctx.method === 'OPTIONS') {
        ctx.status = 204;
        return;
      }
      throw new HttpError('method_not_allowed', `${ctx.method} is not supported here; use ${methods}.`, { headers: { Allow: methods } });
    };
  router.all('/stores', allow('GET, HEAD'));
  router.all('/stores/:id', allow('GET, HEAD, DELETE'));
  router.all('/stores/:id/graphql', allow('POST'));
  router.all('/stores/:id/health', allow('GET, HEAD'));
  router.all('/stores/:id/rest', auth, () => {
    throw new HttpError('not_found', 'Give a REST path after /rest/, e.g. /rest/V1/products.');
  });
  router.all('/openapi.json', allow('GET, HEAD'));
  router.all(['/', '/*rest'], (ctx) => {
    throw new HttpError(
      'not_found',
      `No such API route: ${ctx.method} ${ctx.path.slice(0, 200)}. The API is GET /api/stores, GET and DELETE /api/stores/:id, GET /api/stores/:id/health, ANY /api/stores/:id/rest/<path>, POST /api/stores/:id/graphql.`,
    );
  });
  return router;
}

/** The proxy's path, as @koa/router matched `/api` + `/stores/:id/rest/*path` (any case, one trailing `/` allowed). */
export const PROXY_PATH = /^(?:\/api\/stores\/([^/]+)\/rest\/([^]+))(?:\/$)?$/i;
/** The proxy's route as the OpenAPI document and a router would name it. */
export const PROXY_ROUTE = '/api/stores/:id/rest/*path';

/** A path parameter, URI-decoded as @koa/router decodes them (left as it is when it is not valid). */
function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The proxy, ANY /api/stores/:id/rest/<path>: one middleware that app.ts registers before every router. It carries
 * the traffic; a router would, per request, match the path against its routes, build the matched route's chain
 * and compose it, for this one route that every method takes. Its steps are the chain any route has.
 */
export function proxyRoute(services: HttpServices): Middleware<ApiState> {
  const { config, stores } = services;
  const { metrics } = services.operators;
  const auth = requireKey(services, { storeOwner: true, prefetchStore: true });

  // ---- ANY /api/stores/:id/rest/<path> ------------------------------------------------------------

  /** The caller's query, read as a form (`+` is a space), refused when Magento could not verify it. */
  const readQuery: Middleware<ApiState> = async function readQuery(ctx, next) {
    try {
      ctx.state.queryPairs = parseFormEncoded(ctx.querystring);
    } catch (err) {
      // In the store gateway's words, as for a query it could not sign (store-api/gateway.ts toCallError).
      if (err instanceof QueryError) throw new RequestRefusedError(err.message, { cause: err });
      throw err;
    }
    await next();
  };

  /** JSON and XML bodies pass byte for byte; anything else is refused, since Magento would refuse it. */
  const readBody: Middleware<ApiState> = async function readBody(ctx, next) {
    const length = ctx.request.length;
    const hasBody = (length !== undefined && length > 0) || ctx.get('Transfer-Encoding') !== '';
    if (hasBody) {
      const type = ctx.request.type.toLowerCase();
      if (!BODY_TYPES.some((t) => (t.startsWith('+') ? type.endsWith(t) : type === t))) {
        throw new HttpError(
          'unsupported_media_type',
          `Magento's REST API accepts JSON or XML bodies only, not ${type || 'a body without Content-Type'}.`,
        );
      }
      ctx.state.rawBody = await getRawBody(ctx.req, { limit: config.limits.maxRequestBodyBytes, length });
    }
    await next();
  };

  const forward: Middleware<ApiState> = async function forward(ctx) {
    const prefix = `/api/stores/${ctx.params.id}/rest/`;
    // The raw path after /rest/, percent-escapes as the caller sent them (the signer canonicalises or refuses them).
    const path = ctx.path.slice(ctx.path.indexOf('/rest/') + '/rest/'.length);
    if (!ctx.path.startsWith(prefix) || path === '') throw new HttpError('not_found', 'Give a REST path after /rest/, e.g. /rest/V1/products.');
    const watch = new CallerWatch(ctx.res);
    let response;
    const started = performance.now();
    try {
      response = await stores.send(ctx.state.accountId, ctx.params.id!, {
        method: ctx.method,
        path,
        query: ctx.state.queryPairs,
        body: ctx.state.rawBody,
        contentType: ctx.state.rawBody ? ctx.get('Content-Type') : undefined,
        accept: ctx.get('Accept') || undefined,
        signal: watch,
      }, watch.options);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      metrics.proxyCall({ errorCode: typeof code === 'string' && code in ERROR_STATUS ? code : 'internal_error' }, (performance.now() - started) / 1000);
      throw err;
    }
    metrics.proxyCall({ status: response.status }, (performance.now() - started) / 1000);
    sendStoreAnswer(ctx, response);
  };

  return function proxyRoute(ctx, next) {
    const match = PROXY_PATH.exec(ctx.path);
    if (match === null) return next();
    ctx.params = { id: decodeParam(match[1]!), path: decodeParam(match[2]!) };
    // auth, readQuery, readBody, forward; the last answers (nothing after it runs).
    return auth(ctx, () => readQuery(ctx, () => readBody(ctx, () => forward(ctx, next))));
  };
}
