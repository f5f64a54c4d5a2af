// The mock Magento 2.4.4+ store: createMockStore(options) builds the Koa app and its state; start() listens.
//
// Paths (with indexPhp, only the /index.php/... forms of the store paths are served, like a store without URL
// rewrites; without it both forms are):
//   {base}oauth/token/request, {base}oauth/token/access      token endpoints
//   {base}rest[/default|/all]/V1/...                          signed REST API
//   /admin/ and /admin/api/integrations...                    admin page and its JSON API
//   /__mock/...                                               test knobs (testMode only)
import Koa, { type Context, type Next } from 'koa';
import Router from '@koa/router';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OffsetClock, type Clock } from '../clock.js';
import { adminRouter } from './admin.js';
import { Catalog } from './data.js';
import { BodyTooLarge, readRawBody } from './http.js';
import { IntegrationAdmin } from './integrations.js';
import { FaultSchema, Knobs, faultsAndLog, type Fault, type FaultInput, type RequestLogEntry } from './knobs.js';
import { OauthServer } from './oauth.js';
import { restApi } from './rest.js';
import { tokenEndpoint } from './token-endpoints.js';
import { MagentoTables } from './tokens.js';

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
  /** oauth/cleanup/expiration_period, minutes (120): age at which runTokenCleanup() removes request rows. */
  cleanupExpirationMinutes?: number;
  /** Interface to listen on (127.0.0.1). */
  host?: string;
  /** Public origin if the mock is reached through another name, e.g. `http://shop.test:8080`. */
  publicUrl?: string;
  /** Store view codes accepted in /rest/<code>/ besides `all` (['default']). */
  storeCodes?: string[];
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
  };
  readonly app: Koa;
}

const SUCCESS_CALLBACK_PATH = '/admin/admin/integration/loginSuccessCallback/key/';

export function createMockStore(options: MockStoreOptions = {}): MockStore {
  const clock = options.clock instanceof OffsetClock ? options.clock : new OffsetClock(options.clock);
  const now = (): Date => clock.now();
  const host = options.host ?? '127.0.0.1';
  const offloaderHeader = options.offloaderHeader ?? 'X-Forwarded-Proto';
  const storeCodes = options.storeCodes ?? ['default'];
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

  const tables = new MagentoTables(now);
  const catalog = new Catalog(options.sampleData ?? true);
  const knobs = new Knobs(clock, { checkSignatures: options.checkSignatures ?? true });
  const config = {
    callbackTimeoutMs: options.callbackTimeoutMs ?? 5000,
    callbackMaxRedirects: options.callbackMaxRedirects ?? 0,
    consumerExpirationSeconds: options.consumerExpirationSeconds ?? 300,
    cleanupExpirationMinutes: options.cleanupExpirationMinutes ?? 120,
  };
  const oauth = new OauthServer({ tables, now, consumerExpirationSeconds: config.consumerExpirationSeconds });
  const admin = new IntegrationAdmin({
    tables,
    storeBaseUrl,
    successCallbackUrl,
    callback: { timeoutMs: config.callbackTimeoutMs, maxRedirects: config.callbackMaxRedirects },
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
  const tokenOptions = { oauth, tables, offloaderHeader };
  const requestToken = tokenEndpoint('request', tokenOptions);
  const accessToken = tokenEndpoint('access', tokenOptions);

  /** The Magento storefront paths: token endpoints and REST, under the store base path. */
  async function storefront(ctx: Context, next: Next): Promise<void> {
    const raw = ctx.req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q === -1 ? raw : raw.slice(0, q);
    const m = /^(\/index\.php)?(\/.*)$/.exec(path)!;
    if (indexPhp && !m[1]) return next();
    const pathInfo = m[2]!;
    if (/^\/oauth\/token\/request\/?$/.test(pathInfo)) return requestToken(ctx);
    if (/^\/oauth\/token\/access\/?$/.test(pathInfo)) return accessToken(ctx);
    if (/^\/rest(\/|$)/.test(pathInfo)) return rest(ctx, pathInfo);
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

  const app = new Koa();
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
    const knobRoutes = knobRouter(knobs, runTokenCleanup);
    app.use(knobRoutes.routes());
  }
  app.use(storefront);
  app.use(async function notFound(ctx) {
    ctx.status = 404;
    ctx.type = 'text/html; charset=UTF-8';
    ctx.body = '<h1>404 Not Found</h1>';
  });

  let server: http.Server | null = null;

  return {
    async start(port = 0) {
      if (server) throw new Error('the mock store is already started');
      const s = http.createServer(app.callback());
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', (e) => {
          server = null;
          reject(e);
        });
        s.listen(port, host, () => resolve());
      });
      const actual = (s.address() as AddressInfo).port;
      if (!options.publicUrl) origin = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
      return { baseUrl: storeBaseUrl(), adminUrl: `${requireOrigin()}/admin/`, port: actual };
    },
    async close() {
      const s = server;
      if (!s) return;
      server = null;
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
    knobs: {
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
    },
    app,
  };
}

/** /__mock: the knobs over HTTP, JSON in and out. */
function knobRouter(knobs: Knobs, runTokenCleanup: () => number): Router {
  const router = new Router({ prefix: '/__mock' });
  const json = async (ctx: Context): Promise<Record<string, unknown>> => {
    const text = (await readRawBody(ctx)).toString('utf8');
    try {
      const v: unknown = text ? JSON.parse(text) : {};
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  const bad = (ctx: Context, message: string): void => {
    ctx.status = 400;
    ctx.body = { error: { code: 'invalid_body', message } };
  };

  router.get('/clock', function readClock(ctx) {
    ctx.body = { now: knobs.clock.now().toISOString() };
  });
  router.post('/clock', async function moveClock(ctx) {
    const { advanceSeconds } = await json(ctx);
    if (typeof advanceSeconds !== 'number' || !Number.isFinite(advanceSeconds)) return bad(ctx, 'Expected {"advanceSeconds": <number>}.');
    ctx.body = { now: knobs.advanceClock(advanceSeconds).toISOString() };
  });
  router.get('/faults', function listFaults(ctx) {
    ctx.body = { items: knobs.listFaults() };
  });
  router.post('/faults', async function addFault(ctx) {
    const parsed = FaultSchema.safeParse(await json(ctx));
    if (!parsed.success) return bad(ctx, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    ctx.status = 201;
    ctx.body = knobs.addFault(parsed.data);
  });
  router.delete('/faults', function clearFaults(ctx) {
    knobs.clearFaults();
    ctx.status = 204;
  });
  router.get('/requests', function listRequests(ctx) {
    ctx.body = { items: knobs.requests() };
  });
  router.delete('/requests', function clearRequests(ctx) {
    knobs.clearRequests();
    ctx.status = 204;
  });
  router.get('/signatures', function readSignatureMode(ctx) {
    ctx.body = { check: knobs.checkSignatures };
  });
  router.post('/signatures', async function setSignatureMode(ctx) {
    const { check } = await json(ctx);
    if (typeof check !== 'boolean') return bad(ctx, 'Expected {"check": true|false}.');
    knobs.checkSignatures = check;
    ctx.body = { check };
  });
  router.post('/token-cleanup', function tokenCleanup(ctx) {
    ctx.body = { deleted: runTokenCleanup() };
  });
  return router;
}
