// The REST API under {store_base_url}rest[/<store_code>]/V1/..., in the order Magento\Webapi\Controller\Rest
// runs it: store code (PathProcessor), renderer (Accept), method, route (404), authentication + ACL (401),
// request body (POST/PUT only: JSON or XML), then the service. Errors render as Rest\Response does.
import type { Context } from 'koa';
import { randomBytes } from 'node:crypto';
import { MagentoError, aggregateInputErrors, invalidType, requiredField, webapiError } from './errors.js';
import type { Catalog, Customer, Order, Product } from './data.js';
import { incomingRequest } from './http.js';
import { BulkQueue, type ScheduleItem } from './bulk.js';
import { RESOURCES } from './integrations.js';
import { PhpTypeError, requestUrl, type IncomingRequest, type OauthServer } from './oauth.js';
import { ADMIN_STORE_VIEW, type StoreSettings } from './settings.js';
import { bytesToUtf8, parseStr, urldecode, type PhpArray } from './php.js';
import { MIME, chooseRenderer, deserializeBody, errorBody, render, type Renderer } from './render.js';
import { readSearchCriteria, search, type FieldKind, type Searchable } from './search.js';
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

interface Call {
  params: Record<string, string>;
  query: PhpArray;
  body: Record<string, unknown>;
}

interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  resources: string[];
  handle: (call: Call) => unknown;
  /** The service method, for async topic names (`async.<service>.<http method>`). */
  service?: string;
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

export const isAllowed = (resources: CallerResources, wanted: readonly string[]): boolean =>
  resources === 'all' || (resources !== null && wanted.every((r) => resources.includes(r)));

export const notAuthorized = (wanted: readonly string[]): MagentoError =>
  new MagentoError('authorization', "The consumer isn't authorized to access %resources.", { resources: wanted.join(', ') });

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

const reportId = (): string => `webapi-${randomBytes(6).toString('hex')}`;
const internalError = (): MagentoError =>
  new MagentoError('internal', `Internal Error. Details are available in Magento log file. Report ID: ${reportId()}`);

const mysqlDate = (d: Date): string => d.toISOString().slice(0, 19).replace('T', ' ');

// ---- searchable columns ---------------------------------------------------------------------------------------

const PRODUCT_COLUMNS: Record<string, FieldKind> = {
  entity_id: 'number',
  id: 'number',
  sku: 'text',
  name: 'text',
  price: 'number',
  status: 'number',
  visibility: 'number',
  type_id: 'text',
  attribute_set_id: 'number',
  weight: 'number',
  created_at: 'date',
  updated_at: 'date',
  category_id: 'number',
  url_key: 'text',
  description: 'text',
  tax_class_id: 'number',
};

const invalidAttribute = (field: string): MagentoError => new MagentoError('localized', 'Invalid attribute name: %1', [field]);

const productSearch: Searchable<Product> = {
  kind: (f) => PRODUCT_COLUMNS[f],
  get: (p, f) => {
    if (f === 'entity_id') return p.id;
    if (f === 'category_id') return p.extension_attributes.category_links[0]?.category_id;
    if (f in p) return (p as unknown as Record<string, unknown>)[f];
    return p.custom_attributes.find((a) => a.attribute_code === f)?.value;
  },
  unknownField: invalidAttribute,
};

const CUSTOMER_COLUMNS: Record<string, FieldKind> = {
  entity_id: 'number',
  id: 'number',
  email: 'text',
  firstname: 'text',
  lastname: 'text',
  group_id: 'number',
  store_id: 'number',
  website_id: 'number',
  gender: 'number',
  created_at: 'date',
  updated_at: 'date',
};

const customerSearch: Searchable<Customer> = {
  kind: (f) => CUSTOMER_COLUMNS[f],
  get: (c, f) => (f === 'entity_id' ? c.id : (c as unknown as Record<string, unknown>)[f]),
  unknownField: invalidAttribute,
};

const ORDER_COLUMNS: Record<string, FieldKind> = {
  entity_id: 'number',
  increment_id: 'text',
  created_at: 'date',
  updated_at: 'date',
  state: 'text',
  status: 'text',
  customer_id: 'number',
  customer_is_guest: 'number',
  customer_email: 'text',
  customer_firstname: 'text',
  customer_lastname: 'text',
  base_currency_code: 'text',
  order_currency_code: 'text',
  store_id: 'number',
  subtotal: 'number',
  grand_total: 'number',
  total_qty_ordered: 'number',
};

const orderSearch: Searchable<Order> = {
  kind: (f) => ORDER_COLUMNS[f],
  get: (o, f) => (o as unknown as Record<string, unknown>)[f],
  // A flat table: an unknown column is an SQL error, which Magento masks as an internal error.
  unknownField: () => internalError(),
};

// ---- services -----------------------------------------------------------------------------------------------

const PRODUCT_NOT_FOUND = "The product that was requested doesn't exist. Verify the product and try again.";

function productInput(body: Record<string, unknown>): Record<string, unknown> {
  const product = body.product;
  if (product === undefined || product === null) throw aggregateInputErrors([requiredField('product')])!;
  if (typeof product !== 'object' || Array.isArray(product)) throw invalidType(String(product), 'ProductInterface');
  return product as Record<string, unknown>;
}

function numberField(input: Record<string, unknown>, key: string): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw invalidType(String(v), 'float');
  return n;
}

/** ProductRepository::save, as far as the mock's fields go: update by SKU, or create. */
function saveProduct(catalog: Catalog, input: Record<string, unknown>, now: string): Product {
  const sku = typeof input.sku === 'string' ? input.sku : undefined;
  const existing = sku ? catalog.productBySku(sku) : undefined;
  const emptyAttribute = (code: string): MagentoError =>
    new MagentoError('localized', 'The "%1" attribute value is empty. Set the attribute and try again.', [code]);
  if (!sku) throw emptyAttribute('sku');
  const price = numberField(input, 'price');
  const base: Product = existing ?? {
    id: catalog.allocateProductId(),
    sku,
    name: '',
    attribute_set_id: 4,
    price: 0,
    status: 1,
    visibility: 4,
    type_id: 'simple',
    created_at: now,
    updated_at: now,
    extension_attributes: { website_ids: [1], category_links: [] },
    product_links: [],
    options: [],
    media_gallery_entries: [],
    tier_prices: [],
    custom_attributes: [],
  };
  if (!existing) {
    if (typeof input.name !== 'string' || input.name === '') throw emptyAttribute('name');
    if (price === undefined) throw emptyAttribute('price');
  }
  const next: Product = { ...base, updated_at: now };
  if (typeof input.name === 'string') next.name = input.name;
  if (price !== undefined) next.price = price;
  for (const key of ['status', 'visibility', 'attribute_set_id', 'weight'] as const) {
    const n = numberField(input, key);
    if (n !== undefined) next[key] = n;
  }
  if (typeof input.type_id === 'string') next.type_id = input.type_id;
  if (Array.isArray(input.custom_attributes)) {
    const merged = new Map(next.custom_attributes.map((a) => [a.attribute_code, a.value]));
    for (const a of input.custom_attributes as { attribute_code?: unknown; value?: unknown }[]) {
      if (a && typeof a.attribute_code === 'string') merged.set(a.attribute_code, a.value);
    }
    next.custom_attributes = [...merged].map(([attribute_code, value]) => ({ attribute_code, value }));
  }
  if (input.extension_attributes && typeof input.extension_attributes === 'object') {
    next.extension_attributes = { ...next.extension_attributes, ...(input.extension_attributes as object) };
  }
  if (existing) catalog.products = catalog.products.map((p) => (p === existing ? next : p));
  else catalog.products.push(next);
  return next;
}

function routes(o: RestOptions): RouteDef[] {
  const { catalog } = o;
  const products = [RESOURCES.products];
  const customers = [RESOURCES.customers];
  const orders = [RESOURCES.orders];
  const criteria = (query: PhpArray) => readSearchCriteria(query, { maxPageSize: o.settings?.maxPageSize ?? null });
  const pastLastPage = (): 'last' | 'empty' => o.settings?.pastLastPage ?? 'last';
  /** A list read; the touch knob's changes due after it apply once it is answered. */
  const listRead = <T>(entity: 'products' | 'customers' | 'orders', result: T): T => {
    catalog.afterListRead(entity, mysqlDate(o.now()));
    return result;
  };
  const requireProduct = (sku: string): Product => {
    const p = catalog.productBySku(sku);
    if (!p) throw new MagentoError('noSuchEntity', PRODUCT_NOT_FOUND);
    return p;
  };
  const intParam = (v: string): number => {
    if (!/^\d+$/.test(v)) throw invalidType(v, 'int');
    return Number(v);
  };
  return [
    {
      method: 'GET',
      path: '/V1/products',
      resources: products,
      handle: ({ query }) =>
        listRead('products', search(catalog.products, criteria(query), productSearch, (p) => p.id, pastLastPage())),
    },
    { method: 'GET', path: '/V1/products/:sku', resources: products, handle: ({ params }) => requireProduct(params.sku!) },
    {
      method: 'POST',
      path: '/V1/products',
      resources: products,
      service: 'magento.catalog.api.productrepositoryinterface.save',
      handle: ({ body }) => saveProduct(catalog, productInput(body), mysqlDate(o.now())),
    },
    {
      method: 'PUT',
      path: '/V1/products/:sku',
      resources: products,
      service: 'magento.catalog.api.productrepositoryinterface.save',
      // Rest\Request::overrideRequestBodyIdWithPathParam: the SKU in the path wins over the body's.
      handle: ({ params, body }) => saveProduct(catalog, { ...productInput(body), sku: params.sku }, mysqlDate(o.now())),
    },
    {
      method: 'DELETE',
      path: '/V1/products/:sku',
      resources: products,
      service: 'magento.catalog.api.productrepositoryinterface.deletebyid',
      handle: ({ params }) => {
        const p = requireProduct(params.sku!);
        catalog.products = catalog.products.filter((x) => x !== p);
        return true;
      },
    },
    {
      method: 'GET',
      path: '/V1/customers/search',
      resources: customers,
      handle: ({ query }) =>
        listRead('customers', search(catalog.customers, criteria(query), customerSearch, (c) => c.id, pastLastPage())),
    },
    {
      method: 'GET',
      path: '/V1/customers/:customerId',
      resources: customers,
      handle: ({ params }) => {
        const id = intParam(params.customerId!);
        const c = catalog.customers.find((x) => x.id === id);
        if (!c) {
          // NoSuchEntityException::singleField('customerId', $customerId)
          throw new MagentoError('noSuchEntity', 'No such entity with %fieldName = %fieldValue', {
            fieldName: 'customerId',
            fieldValue: id,
          });
        }
        return c;
      },
    },
    {
      method: 'GET',
      path: '/V1/orders',
      resources: orders,
      handle: ({ query }) =>
        listRead('orders', search(catalog.orders, criteria(query), orderSearch, (x) => x.entity_id, pastLastPage())),
    },
    {
      method: 'GET',
      path: '/V1/orders/:id',
      resources: orders,
      handle: ({ params }) => {
        const id = intParam(params.id!);
        const order = catalog.orders.find((x) => x.entity_id === id);
        if (!order) {
          throw new MagentoError('noSuchEntity', "The entity that was requested doesn't exist. Verify the entity and try again.");
        }
        return order;
      },
    },
    // Granted to no integration by default: the mock's example of a resource outside the integration's ACL.
    { method: 'GET', path: '/V1/store/storeConfigs', resources: [RESOURCES.stores], handle: () => [o.storeConfig()] },
    {
      method: 'GET',
      path: '/V1/store/storeViews',
      resources: [RESOURCES.stores],
      handle: () => [ADMIN_STORE_VIEW, ...(o.settings?.storeViews ?? [])],
    },
    { method: 'GET', path: '/V1/categories', resources: [RESOURCES.categories], handle: () => catalog.categories },
    {
      method: 'GET',
      path: '/V1/stockItems/:productSku',
      resources: [RESOURCES.inventory],
      handle: ({ params }) => {
        const p = requireProduct(params.productSku!);
        const qty = catalog.stock.get(p.id) ?? 100;
        return {
          item_id: p.id,
          product_id: p.id,
          stock_id: 1,
          qty,
          is_in_stock: qty > 0,
          is_qty_decimal: false,
          manage_stock: true,
          min_qty: 0,
          min_sale_qty: 1,
          max_sale_qty: 10000,
          low_stock_date: null,
          backorders: 0,
        };
      },
    },
    ...(o.bulk
      ? ([
          {
            method: 'GET',
            path: '/V1/bulk/:bulkUuid/detailed-status',
            resources: [RESOURCES.bulk],
            handle: ({ params }) => o.bulk!.status(params.bulkUuid!, true),
          },
          {
            method: 'GET',
            path: '/V1/bulk/:bulkUuid/status',
            resources: [RESOURCES.bulk],
            handle: ({ params }) => o.bulk!.status(params.bulkUuid!, false),
          },
          {
            method: 'GET',
            path: '/V1/bulk/:bulkUuid/operation-status/:status',
            resources: [RESOURCES.bulk],
            handle: ({ params }) => {
              const summary = o.bulk!.status(params.bulkUuid!, false) as { operations_list: { status: number }[] };
              return summary.operations_list.filter((x) => String(x.status) === params.status).length;
            },
          },
        ] satisfies RouteDef[])
      : []),
  ];
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

  /** OauthUserContext + WebapiRoleLocator + Webapi\Authorization::isAllowed for the route's resources. */
  function authorize(p: Pipeline): void {
    if (!o.checkSignatures()) {
      p.caller = { resources: 'all', integrationId: null };
      return;
    }
    p.caller = authenticate(o, p.req);
    if (!isAllowed(p.caller.resources, p.route!.resources)) throw notAuthorized(p.route!.resources);
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
    if (!['GET', 'POST', 'PUT', 'DELETE'].includes(p.req.method)) throw new MagentoError('input', 'Request method is invalid.');
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
      if (!(e instanceof MagentoError) && !(e instanceof PhpTypeError)) o.onError?.(e);
      const err = e instanceof MagentoError ? e : internalError();
      status = err.restStatus;
      data = errorBody(err);
    }
    ctx.status = status;
    ctx.type = MIME[renderer];
    ctx.body = render(renderer, data);
  };
}
