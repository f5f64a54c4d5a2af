// The REST pipeline under {store_base_url}rest[/<store_code>]/V1/..., in the order Magento\Webapi\Controller\Rest
// runs it: store code (PathProcessor), renderer (Accept), method, route (404), authentication + ACL (401),
// request body (POST/PUT only: JSON or XML), then the service. Errors render as Rest\Response does.
import type { Context } from 'koa';
import { MagentoException, webapiError } from './errors.js';
import type { Catalog } from './data.js';
import { incomingRequest } from './http.js';
import type { BulkQueue, ScheduleItem } from './bulk.js';
import { PhpTypeError, requestUrl, type IncomingRequest, type OauthServer } from './oauth.js';
import { internalError, routes, type RouteDef } from './rest-routes.js';
import type { StoreSettings } from './settings.js';
import { bytesToUtf8, parseStr, urldecode, type PhpArray } from './php.js';
import { MIME, chooseRenderer, deserializeBody, errorBody, render, type Renderer } from './render.js';
import type { MagentoTables } from './tokens.js';

export interface RestOptions {
  oauth: OauthServer;
  tables: MagentoTables;
  catalog: Catalog;
  /** Benchmark mode when false: no OAuth, no ACL. */
  checkSignatures: () => boolean;
  offloaderHeader: string;
  /** Store view codes besides `all` (read per request: the store views may change). */
  storeCodes: string[] | (() => string[]);
  now: () => Date;
  /** Settings a test may change at runtime (bearer flag, page size limit, past-the-end paging, store views). */
  settings?: StoreSettings;
  /** Where async and bulk requests are queued; without it /async/ paths are not served. */
  bulk?: BulkQueue;
  storeConfig: () => Record<string, unknown>;
  /** Unexpected failures (bugs in the mock), answered as Magento's masked 500. */
  onError?: (e: unknown) => void;
}

/** What a caller may use: every resource, a list, or nothing (a guest). */
export type CallerResources = string[] | 'all' | null;

export interface Caller {
  resources: CallerResources;
  integrationId: number | null;
}

/**
 * OauthUserContext (OAuth header, judged by the consumer's verifier) or TokenUserContext (Bearer, only with
 * enable_integration_as_bearer), then IntegrationService::findActiveIntegrationByConsumerId: an inactive
 * integration is a guest. Throws Magento's OAuth errors (401) for a bad signature, an unknown consumer, ...
 */
export function authenticate(o: Pick<RestOptions, 'oauth' | 'tables' | 'settings'>, req: IncomingRequest): Caller {
  const verifier = o.oauth.verifierFor(req);
  const params = verifier.prepare(req);
  let consumerId: number | null = null;
  if (params.size > 0) {
    consumerId = o.oauth.validateAccessTokenRequest(params, requestUrl(req), req.method, verifier).id;
  } else {
    // TokenUserContext::processRequest: exactly "<type> <token>", type compared case-insensitively.
    const pieces = (req.authorization ?? '').split(' ');
    if (pieces.length === 2 && pieces[0]!.toLowerCase() === 'bearer') {
      consumerId = o.oauth.bearerConsumer(pieces[1]!, o.settings?.allowIntegrationBearer ?? false)?.id ?? null;
    }
  }
  if (consumerId === null) return { resources: null, integrationId: null };
  const integration = o.tables.integrationByConsumerId(consumerId);
  if (integration?.status !== 'active') return { resources: null, integrationId: null };
  return { resources: integration.resources, integrationId: integration.id };
}

/** Webapi\Authorization::isAllowed: every resource must pass; `anonymous` passes for anyone (GuestAuthorization). */
export const isAllowed = (resources: CallerResources, wanted: readonly string[]): boolean =>
  wanted.every((r) => r === ANONYMOUS || resources === 'all' || (resources !== null && resources.includes(r)));

export const ANONYMOUS = 'anonymous';

export const notAuthorized = (wanted: readonly string[]): MagentoException =>
  new MagentoException('authorization', "The consumer isn't authorized to access %resources.", { resources: wanted.join(', ') });

/** PathProcessor::process: `/rest/<code>/V1/x` -> `/V1/x` for a known code or `all`; otherwise the whole rest. */
export function servicePath(pathInfo: string, storeCodes: string[]): string {
  const parts = pathInfo.replace(/^\/+|\/+$/g, '').split('/');
  parts.shift(); // 'rest'
  const rest = parts.join('/');
  const slash = rest.indexOf('/');
  const code = slash === -1 ? rest : rest.slice(0, slash);
  const after = slash === -1 ? '' : rest.slice(slash + 1);
  if (storeCodes.includes(code) || code === 'all') return '/' + after;
  return '/' + rest;
}

/** Rest\Router\Route::match: same number of parts, literal parts equal, variables urldecoded. */
function matchRoute(route: RouteDef, path: string): Record<string, string> | null {
  const want = route.path.replace(/^\/+|\/+$/g, '').split('/');
  const got = path.replace(/^\/+|\/+$/g, '').split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w.startsWith(':') && w[1] !== ':') params[w.slice(1)] = bytesToUtf8(urldecode(got[i]!));
    else if (w !== got[i]) return null;
  }
  return params;
}

// ---- pipeline -----------------------------------------------------------------------------------------------

interface Pipeline {
  req: IncomingRequest;
  renderer: Renderer;
  route?: RouteDef;
  params?: Record<string, string>;
  caller?: Caller;
}

/** `/async/V1/...` or `/async/bulk/V1/...` after the store code (WebapiAsync's path processors). */
const ASYNC_PATH = /^\/async(\/bulk)?(\/V\d+\/.*)$/;

/** Bulk routes name a path variable `:sku` as `bySku`: its value comes from each item. */
function matchBulkRoute(route: RouteDef, path: string): Record<string, string> | null {
  const want = route.path.replace(/^\/+|\/+$/g, '').split('/');
  const got = path.replace(/^\/+|\/+$/g, '').split('/');
  if (want.length !== got.length) return null;
  const byParams: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w.startsWith(':')) {
      const name = w.slice(1);
      if (got[i] !== `by${name.charAt(0).toUpperCase()}${name.slice(1)}`) return null;
      byParams[name] = name;
    } else if (w !== got[i]) return null;
  }
  return byParams;
}

export function restApi(o: RestOptions) {
  const table = routes(o);
  const storeCodes = (): string[] => (typeof o.storeCodes === 'function' ? o.storeCodes() : o.storeCodes);

  /**
   * OauthUserContext + WebapiRoleLocator + Webapi\Authorization::isAllowed for the route's resources. The user
   * context is resolved lazily, by the role locator: a route whose every resource is `anonymous` never asks for it,
   * so its caller's OAuth header (a dead token, a bad signature) is never checked (docs/magento-protocol.md §7b).
   */
  function authorize(p: Pipeline): void {
    if (!o.checkSignatures()) {
      p.caller = { resources: 'all', integrationId: null };
      return;
    }
    const wanted = o.settings?.allowInsecure && p.route!.anonymousWhenInsecure ? [ANONYMOUS] : p.route!.resources;
    if (wanted.every((r) => r === ANONYMOUS)) {
      p.caller = { resources: null, integrationId: null };
      return;
    }
    p.caller = authenticate(o, p.req);
    if (!isAllowed(p.caller.resources, wanted)) throw notAuthorized(wanted);
  }

  function findRoute(method: string, path: string, bulk: boolean): { route: RouteDef; params: Record<string, string> } | null {
    for (const route of table) {
      if (route.method !== method) continue;
      const params = bulk ? matchBulkRoute(route, path) : matchRoute(route, path);
      if (params) return { route, params };
    }
    return null;
  }

  function queryOf(p: Pipeline): PhpArray {
    const q = p.req.requestUri.indexOf('?');
    // parse_str works on bytes; the handlers, like PHP's string functions on UTF-8 data, see text.
    return utf8Tree(parseStr(q === -1 ? '' : p.req.requestUri.slice(q + 1)));
  }

  function dispatch(p: Pipeline, pathInfo: string): { data: unknown; status?: number } {
    if (!['GET', 'POST', 'PUT', 'DELETE'].includes(p.req.method)) throw new MagentoException('input', 'Request method is invalid.');
    const path = servicePath(pathInfo, storeCodes());
    const async = o.bulk && p.req.method !== 'GET' ? ASYNC_PATH.exec(path) : null;
    if (async) return dispatchAsync(p, async[2]!, !!async[1]);
    const found = findRoute(p.req.method, path, false);
    if (!found) throw webapiError('Request does not match any route.', 404);
    p.route = found.route;
    p.params = found.params;
    authorize(p);
    const hasBody = p.req.method === 'POST' || p.req.method === 'PUT';
    const body = hasBody ? deserializeBody(p.req.contentType, bytesToUtf8(p.req.body)) : {};
    return { data: p.route.handle({ params: p.params, query: queryOf(p), body }) };
  }

  /** AsynchronousRequestProcessor / MassSchedule::publishMass: 202 with one request item per entity. */
  function dispatchAsync(p: Pipeline, innerPath: string, bulk: boolean): { data: unknown; status: number } {
    const found = findRoute(p.req.method, innerPath, bulk);
    if (!found) throw webapiError('Request does not match any route.', 404);
    p.route = found.route;
    authorize(p);
    const hasBody = p.req.method === 'POST' || p.req.method === 'PUT';
    const body: unknown = hasBody ? deserializeBody(p.req.contentType, bytesToUtf8(p.req.body)) : {};
    const route = found.route;
    let entities: unknown[];
    if (bulk) {
      if (!Array.isArray(body)) {
        // The (array) cast of a JSON object: Magento reads its values as the list of entities.
        entities = body && typeof body === 'object' ? Object.values(body as Record<string, unknown>) : [];
      } else entities = body;
    } else entities = [body];
    const items: ScheduleItem[] = entities.map((entity) => {
      if (!entity || typeof entity !== 'object' || Array.isArray(entity)) {
        return { data: entity, run: null, error: 'Request item must be an object.' };
      }
      const item = entity as Record<string, unknown>;
      const params: Record<string, string> = {};
      for (const [name, value] of Object.entries(found.params)) {
        if (!bulk) continue;
        const v = item[value];
        if (typeof v !== 'string' && typeof v !== 'number') {
          return { data: entity, run: null, error: `"${name}" is required. Enter and try again.` };
        }
        params[name] = String(v);
      }
      if (!bulk) Object.assign(params, found.params);
      return { data: entity, run: () => route.handle({ params, query: new Map(), body: item }) };
    });
    const service = route.service ?? `magento${route.path.replace(/\/:?/g, '.').toLowerCase()}`;
    const topic = `async.${service}.${p.req.method.toLowerCase()}`;
    const { bulk: scheduled, requestItems } = o.bulk!.schedule(topic, items, p.caller?.integrationId ?? null);
    return {
      status: 202,
      data: {
        bulk_uuid: scheduled.uuid,
        request_items: requestItems,
        errors: requestItems.some((r) => r.status === 'rejected'),
      },
    };
  }

  function utf8Tree(arr: PhpArray): PhpArray {
    const out: PhpArray = new Map();
    for (const [k, v] of arr) out.set(bytesToUtf8(k), typeof v === 'string' ? bytesToUtf8(v) : utf8Tree(v));
    return out;
  }

  return async function rest(ctx: Context, pathInfo: string): Promise<void> {
    const req = await incomingRequest(ctx, o.offloaderHeader);
    let renderer: Renderer = 'json';
    let status = 200;
    let data: unknown;
    try {
      renderer = chooseRenderer(ctx.get('Accept') || undefined);
      const answer = dispatch({ req, renderer }, pathInfo);
      data = answer.data;
      status = answer.status ?? 200;
    } catch (e) {
      // A PHP TypeError or any other non-Magento failure: Magento logs it and answers a masked 500.
      if (!(e instanceof MagentoException) && !(e instanceof PhpTypeError)) o.onError?.(e);
      const err = e instanceof MagentoException ? e : internalError();
      status = err.restStatus;
      data = errorBody(err);
    }
    ctx.status = status;
    ctx.type = MIME[renderer];
    ctx.body = render(renderer, data);
  };
}
