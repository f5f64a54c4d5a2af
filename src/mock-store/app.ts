// The mock Magento 2.4.4+ store: createMockStore(options) builds the Koa app and its state; start() listens.
//
// Paths (with indexPhp, only the /index.php/... forms of the store paths are served, like a store without URL
// rewrites; without it both forms are):
//   {base}oauth/token/request, {base}oauth/token/access      token endpoints
//   {base}rest[/default|/all]/V1/...                          signed REST API
//   /admin/ and /admin/api/integrations...                    admin page and its JSON API
//   /__mock/...                                               test knobs (testMode only)
import Koa, { type Context, type Next } from 'koa';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { OffsetClock, type Clock } from '../clock.js';
import { adminRouter } from './admin.js';
import { Catalog } from './data.js';
import { BulkQueue, type BulkFailure } from './bulk.js';
import type { EntityKind } from './data.js';
import { graphqlEndpoint } from './graphql.js';
import { BodyTooLarge } from './http.js';
import { IntegrationAdmin } from './integrations.js';
import { Knobs, faultsAndLog, knobRouter, type Fault, type FaultInput, type RequestLogEntry } from './knobs.js';
import { OauthServer } from './oauth.js';
import { restApi } from './rest.js';
import {
  DEFAULT_MAGENTO_VERSION,
  DEFAULT_STORE_CODES,
  storeViewsFromCodes,
  type StoreSettings,
  type StoreView,
} from './settings.js';
import { tokenEndpoint } from './token-endpoints.js';
import { MagentoTables } from './tokens.js';
import { VERIFIERS, type VerifierName } from './verifiers.js';

export interface MockStoreOptions {
  /** Time source; wrapped in an OffsetClock unless it is one, so the knobs can move it. */
  clock?: Clock;
  /** store_base_url ends in `index.php/` (a store without URL rewrites). */
  indexPhp?: boolean;
  /** Enables the /__mock HTTP knobs. The programmatic knobs always work. */
  testMode?: boolean;
  /** false = benchmark mode: REST calls answered without OAuth or ACL checks. Default true. */
  checkSignatures?: boolean;
  /** oauth/consumer/expiration_period, seconds (300). */
  consumerExpirationSeconds?: number;
  /** oauth/consumer/post_timeout, ms (5000). */
  callbackTimeoutMs?: number;
  /** oauth/consumer/post_maxredirects (0). */
  callbackMaxRedirects?: number;
  /**
   * How long an idle keep-alive connection stays open (node's 5 s by default). The instruction-count bench raises it:
   * a proxy slowed down by valgrind would otherwise reuse sockets the store is just closing.
   */
  keepAliveTimeoutMs?: number;
  /** oauth/cleanup/expiration_period, minutes (120): age at which runTokenCleanup() removes request rows. */
  cleanupExpirationMinutes?: number;
  /** Interface to listen on (127.0.0.1). */
  host?: string;
  /** Public origin if the mock is reached through another name, e.g. `http://shop.test:8080`. */
  publicUrl?: string;
  /**
   * Store view codes accepted in /rest/<code>/ and the GraphQL `Store` header besides `all` (['default', 'fr']);
   * GET /V1/store/storeViews lists them (ids from 1, `default` first) after the admin store.
   */
  storeCodes?: string[];
  /** The store's signature verifier (docs/magento-protocol.md §7a) for integrations without their own ('laminas'). */
  verifier?: VerifierName;
  /** "Allow OAuth Access Tokens to be used as standalone Bearer tokens" (false, Magento's default since 2.4.4). */
  allowIntegrationBearer?: boolean;
  /** Body of GET {base}magento_version ('Magento/2.4 (Community)'); false = 404, as with Magento_Version disabled. */
  magentoVersion?: string | false;
  /** Serve HTTPS with this key and certificate (PEM); the base URL is then https://. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** webapi/validation/maximum_page_size (300); null = no limit, as before 2.4.7. */
  maxPageSize?: number | null;
  /** A page past the last one: 'last' returns the last page again (Magento's collections), 'empty' no items. */
  pastLastPage?: 'last' | 'empty';
  /** Real milliseconds after which queued async/bulk operations run (100); null = only via the knob. */
  bulkProcessAfterMs?: number | null;
  /** web/secure/offloader_header (X-Forwarded-Proto). */
  offloaderHeader?: string;
  /** Load the sample catalog (true). */
  sampleData?: boolean;
  /** Where the mock reports its own unexpected errors (default: console.error). */
  onError?: (e: unknown) => void;
}

export interface MockStore {
  /** Listens (port 0 = any free port). */
  start(port?: number): Promise<{ baseUrl: string; adminUrl: string; port: number }>;
  close(): Promise<void>;
  readonly clock: OffsetClock;
  /** store_base_url, e.g. `http://127.0.0.1:3001/` (trailing slash; `index.php/` with indexPhp). */
  readonly baseUrl: string;
  /** The admin grid page. */
  readonly adminUrl: string;
  /** The loginSuccessCallback URL sent to the identity popup as success_call_back. */
  readonly successCallbackUrl: string;
  /** Drive integrations like the admin does (create, activate, reauthorize, delete, get, list, seed). */
  readonly admin: IntegrationAdmin;
  /** Magento's tables: integrations, consumers, token rows, nonces. */
  readonly tables: MagentoTables;
  /** Products, customers, orders served by the REST API. */
  readonly catalog: Catalog;
  /** The Magento settings in effect. */
  readonly config: {
    callbackTimeoutMs: number;
    callbackMaxRedirects: number;
    consumerExpirationSeconds: number;
    cleanupExpirationMinutes: number;
  };
  /** Settings in effect now; the knobs below change them. */
  readonly settings: Readonly<StoreSettings>;
  /** Async / bulk operations. */
  readonly bulk: BulkQueue;
  readonly knobs: {
    advanceClock(seconds: number): Date;
    addFault(fault: FaultInput): Fault;
    listFaults(): Fault[];
    clearFaults(): void;
    requests(): RequestLogEntry[];
    clearRequests(): void;
    setCheckSignatures(check: boolean): void;
    /** Magento's token cleanup (Token::afterSave, 1-in-cleanup_probability): request rows older than the period. */
    runTokenCleanup(): number;
    /** "Upgrades" the store: the verifier for integrations without their own. */
    setVerifier(verifier: VerifierName): void;
    /** "Upgrades" one integration (null = back to the store's verifier). */
    setIntegrationVerifier(integrationId: number, verifier: VerifierName | null): void;
    /** Stores > Configuration settings. */
    setSettings(settings: Partial<Omit<StoreSettings, 'storeViews'>> & { storeCodes?: string[] }): StoreSettings;
    /** Bumps updated_at of entities now, or after the Nth next list read of that entity (between pages). */
    touch(entity: EntityKind, ids: number[], afterReads?: number): number;
    /** Adds N light orders (see Catalog.seedOrders). */
    seedOrders(count: number, start?: string): number;
    /** Runs queued async/bulk operations now (one bulk, or all). */
    processBulk(uuid?: string): number;
    /** The next N processed operations fail with this status (2 retriable, 3 not) and message. */
    failBulkOperations(failure: BulkFailure): void;
  };
  readonly app: Koa;
}

const SUCCESS_CALLBACK_PATH = '/admin/admin/integration/loginSuccessCallback/key/';

export function createMockStore(options: MockStoreOptions = {}): MockStore {
  const clock = options.clock instanceof OffsetClock ? options.clock : new OffsetClock(options.clock);
  const now = (): Date => clock.now();
  const host = options.host ?? '127.0.0.1';
  const offloaderHeader = options.offloaderHeader ?? 'X-Forwarded-Proto';
  const indexPhp = options.indexPhp ?? false;
  const urlKey = randomBytes(32).toString('hex');
  const onError = options.onError ?? ((e: unknown) => console.error('[mock-store]', e));

  let origin: string | null = options.publicUrl ? options.publicUrl.replace(/\/+$/, '') : null;
  const requireOrigin = (): string => {
    if (!origin) throw new Error('the mock store is not started');
    return origin;
  };
  const storeBaseUrl = (): string => `${requireOrigin()}/${indexPhp ? 'index.php/' : ''}`;
  const successCallbackUrl = (): string => `${requireOrigin()}${SUCCESS_CALLBACK_PATH}${urlKey}/`;

  const settings: StoreSettings = {
    verifier: options.verifier ?? 'laminas',
    allowIntegrationBearer: options.allowIntegrationBearer ?? false,
    maxPageSize: options.maxPageSize === undefined ? 300 : options.maxPageSize,
    pastLastPage: options.pastLastPage ?? 'last',
    magentoVersion: options.magentoVersion === false ? null : (options.magentoVersion ?? DEFAULT_MAGENTO_VERSION),
    storeViews: storeViewsFromCodes(options.storeCodes ?? DEFAULT_STORE_CODES),
    allowInsecure: false,
  };
  const storeCodes = (): string[] => settings.storeViews.map((v: StoreView) => v.code);
  const tables = new MagentoTables(now);
  const bulk = new BulkQueue(now, options.bulkProcessAfterMs === undefined ? 100 : options.bulkProcessAfterMs);
  const catalog = new Catalog(options.sampleData ?? true);
  const knobs = new Knobs(clock, { checkSignatures: options.checkSignatures ?? true });
  const config = {
    callbackTimeoutMs: options.callbackTimeoutMs ?? 5000,
    callbackMaxRedirects: options.callbackMaxRedirects ?? 0,
    consumerExpirationSeconds: options.consumerExpirationSeconds ?? 300,
    cleanupExpirationMinutes: options.cleanupExpirationMinutes ?? 120,
  };
  const oauth = new OauthServer({
    tables,
    now,
    consumerExpirationSeconds: config.consumerExpirationSeconds,
    verifierOf: (consumer) => {
      const integration = consumer ? tables.integrationByConsumerId(consumer.id) : undefined;
      return VERIFIERS[integration?.verifier ?? settings.verifier];
    },
  });
  const admin = new IntegrationAdmin({
    tables,
    storeBaseUrl,
    successCallbackUrl,
    callback: { timeoutMs: config.callbackTimeoutMs, maxRedirects: config.callbackMaxRedirects },
    storeVerifier: () => settings.verifier,
  });
  const runTokenCleanup = (): number => tables.deleteOldEntries(config.cleanupExpirationMinutes);

  const rest = restApi({
    oauth,
    tables,
    catalog,
    checkSignatures: () => knobs.checkSignatures,
    offloaderHeader,
    storeCodes,
    now,
    onError,
    settings,
    bulk,
    storeConfig: () => ({
      id: 1,
      code: 'default',
      website_id: 1,
      locale: 'en_US',
      base_currency_code: 'USD',
      default_display_currency_code: 'USD',
      timezone: 'America/Chicago',
      weight_unit: 'lbs',
      base_url: `${requireOrigin()}/`,
      base_link_url: storeBaseUrl(),
      secure_base_url: `${requireOrigin()}/`,
      secure_base_link_url: storeBaseUrl(),
    }),
  });
  const graphql = graphqlEndpoint({ oauth, tables, catalog, settings, offloaderHeader, checkSignatures: () => knobs.checkSignatures, onError });
  const tokenOptions = { oauth, tables, offloaderHeader };
  const requestToken = tokenEndpoint('request', tokenOptions);
  const accessToken = tokenEndpoint('access', tokenOptions);

  /** The Magento storefront paths: token endpoints and REST, under the store base path. */
  async function storefront(ctx: Context, next: Next): Promise<void> {
    const raw = ctx.req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q === -1 ? raw : raw.slice(0, q);
    const m = /^(\/index\.php)?(\/.*|)$/.exec(path)!;
    if (indexPhp && !m[1]) return next();
    const pathInfo = m[2]!;
    if (/^\/oauth\/token\/request\/?$/.test(pathInfo)) return requestToken(ctx);
    if (/^\/oauth\/token\/access\/?$/.test(pathInfo)) return accessToken(ctx);
    if (/^\/rest(\/|$)/.test(pathInfo)) return rest(ctx, pathInfo);
    if (/^\/graphql\/?$/.test(pathInfo)) return graphql(ctx);
    if ((pathInfo === '/' || (m[1] && pathInfo === '')) && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      // The storefront's home page (cms_index_index): what a reachability check of store_base_url gets.
      ctx.type = 'text/html; charset=UTF-8';
      ctx.body = '<!doctype html><html lang="en"><head><title>Home page</title></head><body><h1>Home Page</h1></body></html>';
      return;
    }
    if (pathInfo === '/magento_version' && ctx.method === 'GET' && settings.magentoVersion !== null) {
      // Magento\Version\Controller\Index\Index: "Magento/<major.minor> (<edition>)".
      ctx.type = 'text/html; charset=UTF-8';
      ctx.body = settings.magentoVersion;
      return;
    }
    return next();
  }

  async function errorsAsMagento(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        ctx.status = 413;
        ctx.body = 'Request Entity Too Large';
        return;
      }
      onError(e);
      ctx.status = 500;
      ctx.type = 'text/html; charset=UTF-8';
      ctx.body = 'There has been an error processing your request';
    }
  }

  /** Every answer carries a Date from the mock's clock, so a moved clock is visible as it is on a real store. */
  async function dateHeader(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } finally {
      ctx.set('Date', clock.now().toUTCString());
    }
  }

  const app = new Koa();
  // A client that hangs up mid-answer (a connector giving up on a stalled or oversized body) is not a bug of the mock.
  app.on('error', (e: unknown) => {
    const code = (e as { code?: unknown } | null)?.code;
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECANCELED' || code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    onError(e);
  });
  app.use(dateHeader);
  app.use(errorsAsMagento);
  app.use(faultsAndLog(knobs));
  const adminRoutes = adminRouter({
    admin,
    urlKey,
    storeBaseUrl,
    successCallbackPath: SUCCESS_CALLBACK_PATH,
    successCallbackUrl,
  });
  app.use(adminRoutes.routes());
  if (options.testMode) {
    const knobRoutes = knobRouter(knobs, {
      runTokenCleanup,
      setVerifier: (v) => knobApi.setVerifier(v),
      setIntegrationVerifier: (id, v) => knobApi.setIntegrationVerifier(id, v),
      setSettings: (x) => knobApi.setSettings(x),
      settings: () => settings,
      touch: (e, ids, after) => knobApi.touch(e, ids, after),
      seedOrders: (n, start) => knobApi.seedOrders(n, start),
      processBulk: (uuid) => knobApi.processBulk(uuid),
      failBulkOperations: (f) => knobApi.failBulkOperations(f),
    });
    app.use(knobRoutes.routes());
  }
  app.use(storefront);
  app.use(async function notFound(ctx) {
    ctx.status = 404;
    ctx.type = 'text/html; charset=UTF-8';
    ctx.body = '<h1>404 Not Found</h1>';
  });

  const mysqlNow = (): string => clock.now().toISOString().slice(0, 19).replace('T', ' ');
  const knobApi: MockStore['knobs'] = {
    advanceClock: (seconds) => knobs.advanceClock(seconds),
    addFault: (f) => knobs.addFault(f),
    listFaults: () => knobs.listFaults(),
    clearFaults: () => knobs.clearFaults(),
    requests: () => knobs.requests(),
    clearRequests: () => knobs.clearRequests(),
    setCheckSignatures: (check) => {
      knobs.checkSignatures = check;
    },
    runTokenCleanup,
    setVerifier: (verifier) => {
      settings.verifier = verifier;
    },
    setIntegrationVerifier: (integrationId, verifier) => {
      admin.update(integrationId, { verifier });
    },
    setSettings: ({ storeCodes: codes, ...rest }) => {
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) Object.assign(settings, { [k]: v });
      if (codes) settings.storeViews = storeViewsFromCodes(codes);
      return { ...settings };
    },
    touch: (entity, ids, afterReads = 0) => {
      if (afterReads > 0) {
        catalog.touchAfterReads(entity, ids, afterReads);
        return 0;
      }
      return catalog.touch(entity, ids, mysqlNow());
    },
    seedOrders: (count, start) => catalog.seedOrders(count, start),
    processBulk: (uuid) => bulk.process(uuid),
    failBulkOperations: (failure) => bulk.failNext(failure),
  };

  let server: http.Server | null = null;

  return {
    async start(port = 0) {
      if (server) throw new Error('the mock store is already started');
      const s = options.tls
        ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, app.callback())
        : http.createServer(app.callback());
      if (options.keepAliveTimeoutMs !== undefined) s.keepAliveTimeout = options.keepAliveTimeoutMs;
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', (e) => {
          server = null;
          reject(e);
        });
        s.listen(port, host, () => resolve());
      });
      const actual = (s.address() as AddressInfo).port;
      const scheme = options.tls ? 'https' : 'http';
      if (!options.publicUrl) origin = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${actual}`;
      return { baseUrl: storeBaseUrl(), adminUrl: `${requireOrigin()}/admin/`, port: actual };
    },
    async close() {
      const s = server;
      if (!s) return;
      server = null;
      bulk.close();
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    clock,
    get baseUrl() {
      return storeBaseUrl();
    },
    get adminUrl() {
      return `${requireOrigin()}/admin/`;
    },
    get successCallbackUrl() {
      return successCallbackUrl();
    },
    admin,
    tables,
    catalog,
    config,
    settings,
    bulk,
    knobs: knobApi,
    app,
  };
}
