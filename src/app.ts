// The composition root: builds every service from the configuration. The server (main.ts), the CLI and the tests
// all start here, so they run the same wiring.
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Accounts } from './accounts/accounts.js';
import { ActivationService } from './activation/service.js';
import { systemClock, type Clock } from './clock.js';
import { checkConfig, type Config } from './config.js';
import { ApiKeyCache } from './http/auth.js';
import type { HttpServices } from './http/context.js';
import { createRenderer } from './http/views.js';
import { createIdentityServices } from './identity/index.js';
import { createLogger, type Logger } from './log.js';
import { createRestClient } from './protocol/rest-client.js';
import { createTokenEndpoints, type TokenEndpoints } from './protocol/token-endpoints.js';
import { createResponseBudget, createTransport } from './protocol/transport.js';
import { ProfileRedetector } from './protocol/verifier-detection.js';
import { ConnectorError } from './errors.js';
import { checkOpens, KEY_FILE_NAME, loadSealer } from './secrets/index.js';
import { checkSchema, openStorage, sealedSample } from './storage/db.js';
import { readinessCheck } from './storage/readiness.js';
import { ConnectorClient } from './store-api/client.js';
import { StoreAvailability } from './store-api/availability.js';
import { StoreGateway } from './store-api/gateway.js';
import { createOperatorServices } from './operators/index.js';
import { StoreViews } from './store-api/store-views.js';
import { StoreHealth } from './store-api/health.js';
import { bindingEvents } from './webhooks/events.js';
import { AvailabilityRecorder } from './webhooks/availability.js';
import { RevocationProber } from './probes/prober.js';
import type { Metrics } from './metrics/metrics.js';
import { consumerKeyHash } from './activation/callback.js';

export interface ServiceOverrides {
  clock?: Clock;
  logger?: Logger;
  tokens?: TokenEndpoints;
}

export interface Services extends HttpServices {
  /** The TypeScript client for an account's stores (for services running in this process). */
  client(accountId: string): ConnectorClient;
  close(): Promise<void>;
}

export async function openServices(config: Config, overrides: ServiceOverrides = {}): Promise<Services> {
  checkConfig(config);
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? createLogger(config.logLevel, undefined, config.logFormat);
  // Read-only checks first (the CLI runs next to servers holding the database): the schema is current, and the
  // keys open what the database already holds; a missing key file is never replaced while sealed data exists.
  await checkSchema(config.databaseUrl);
  const sample = await sealedSample(config.databaseUrl);
  const sealer = loadSealer({ secretsKey: config.secretsKey, dataDir: config.dataDir, logger, sealedSample: sample });
  const storage = await openStorage({ databaseUrl: config.databaseUrl, sealer, clock, logger });
  const { limits, durations } = config;
  // Issue 13: every response this instance receives from stores at once, token calls and detections included; the
  // gateway holds the proxy's answers in it until they are written.
  const responseBudget = createResponseBudget(limits.responseBufferBytes, 'instance');
  const transport = createTransport({
    allowPrivate: config.allowPrivateStoreUrls,
    connectTimeoutMs: limits.connectTimeoutMs,
    totalTimeoutMs: limits.totalTimeoutMs,
    maxResponseBytes: limits.maxResponseBytes,
    maxRequestBodyBytes: limits.maxRequestBodyBytes,
    responseBudget,
    logger,
  });
  const endpoints = overrides.tokens ?? createTokenEndpoints({ transport, timeoutMs: limits.tokenCallTimeoutMs, clock });
  // connector_token_call_seconds: the metrics are made with the operator services below.
  const timed = async <T>(call: 'request_token' | 'access_token', run: () => Promise<T>): Promise<T> => {
    const started = process.hrtime.bigint();
    try {
      return await run();
    } finally {
      operatorsLater?.metrics.tokenCall(call, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
  let operatorsLater: { metrics: Pick<Metrics, 'tokenCall'> } | undefined;
  const tokens: TokenEndpoints = {
    requestToken: (store) => timed('request_token', () => endpoints.requestToken(store)),
    accessToken: (store, requestToken, verifier) => timed('access_token', () => endpoints.accessToken(store, requestToken, verifier)),
  };
  const accounts = new Accounts({ storage, clock, durations, limits });
  const activation = new ActivationService({
    storage,
    tokenEndpoints: tokens,
    clock,
    durations,
    limits,
    logger,
    allowPrivateStoreUrls: config.allowPrivateStoreUrls,
    // The signing profile is detected right after activation, in the background (docs/magento-protocol.md §7a).
    detection: { transport, timeoutMs: limits.tokenCallTimeoutMs },
  });
  const rest = createRestClient({
    transport,
    clock,
    retry: {
      maxRetries: limits.maxRetries,
      baseDelayMs: durations.retryBaseDelayMs,
      maxDelayMs: durations.retryMaxDelayMs,
      retryAfterCapMs: limits.retryAfterCapMs,
    },
  });
  const events = bindingEvents(storage.accounts, clock);
  // store.unavailable / store.available: a breaker's change recorded on the binding with its event, once per store
  // whatever the number of instances (src/webhooks/availability.ts).
  const availabilityEvents = new AvailabilityRecorder({ bindings: storage.bindings, events, clock, logger, onRecorded: (b) => stores.evictCached(b.id) });
  // The circuit breaker per store sits between the gateway and the REST client (proxy and client alike).
  const availability = new StoreAvailability({
    clock,
    failuresBeforeUnavailable: limits.storeFailuresBeforeUnavailable,
    cooldownMs: durations.storeCooldownMs,
    emitAvailabilityEvent: (event) => {
      logger.warn({ event: event.type, consumerKeyHash: consumerKeyHash(event.consumerKey).slice(0, 12), storeBaseUrl: event.storeBaseUrl, reason: event.reason }, `store availability: ${event.type}`);
      availabilityEvents.breakerChanged(event);
    },
  });
  const redetector = new ProfileRedetector({ transport, clock, timeoutMs: limits.tokenCallTimeoutMs });
  const stores = new StoreGateway({
    bindings: storage.bindings,
    timeline: storage.bindingEvents,
    rest: availability.guard(rest),
    clock,
    limits,
    logger,
    redetector,
    events,
    probes: storage.probes,
    responseBudget,
    availability: availabilityEvents,
  });
  const storeViews = new StoreViews(stores, clock, durations.storeViewsTtlMs);
  const health = new StoreHealth({
    gateway: stores,
    bindings: storage.bindings,
    events: storage.bindingEvents,
    transport,
    clock,
    logger,
    timeoutMs: limits.tokenCallTimeoutMs,
    concurrency: Math.min(3, limits.perStoreConcurrency),
    probes: storage.probes,
  });
  const identity = createIdentityServices({ config, storage, clock, logger, flowKey: sealer.deriveKey('oidc-flow') });
  // Operator keys, the accounts API, lifecycle webhooks.
  const operators = createOperatorServices({ storage, clock, logger, accounts, webhookConfig: config.webhooks, cacheTtlMs: limits.cacheTtlMs });
  operatorsLater = operators;
  const prober = new RevocationProber({ storage, gateway: stores, clock, config: config.probes, logger, onOutcome: operators.metrics.probe });
  return {
    config,
    clock,
    logger,
    storage,
    accounts,
    activation,
    stores,
    availability,
    storeViews,
    health,
    prober,
    // Readiness re-checks what start-up checked once: that the keys open what the database holds.
    readiness: readinessCheck({
      storage,
      logger,
      clock,
      checkSecrets: async () => {
        checkOpens(sealer, await sealedSample(config.databaseUrl), config.secretsKey ? 'SECRETS_KEY' : 'the key file', join(config.dataDir, KEY_FILE_NAME));
      },
    }),
    keys: new ApiKeyCache(accounts, clock, limits.cacheTtlMs),
    client: (accountId) => new ConnectorClient(stores, accountId),
    identity,
    operators,
    render: createRenderer({ identity: { localAccounts: identity.localAccounts, oidcName: identity.oidc?.name ?? null } }),
    csrfKey: sealer.deriveKey('csrf'),
    async close() {
      await activation.drain();
      await identity.close();
      await operators.worker.stop(); // waits for deliveries in flight
      await prober.stop();
      await availabilityEvents.drain();
      transport.close();
      await storage.close();
    },
  };
}

/** The server cannot listen where it was told to (port taken, not allowed, no such address). */
export class ListenError extends ConnectorError<'port_in_use' | 'listen_failed'> {}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') {
    return new ListenError('port_in_use', `port ${port} is already in use on ${host} (another connector or program listens there): stop it, or set PORT to a free port`, { cause: err });
  }
  if (err.code === 'EACCES') return new ListenError('listen_failed', `not allowed to listen on port ${port}: choose a PORT above 1023`, { cause: err });
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
    return new ListenError('listen_failed', `HOST ${host} is not an address of this machine: use 0.0.0.0 (all interfaces) or 127.0.0.1`, { cause: err });
  }
  return err;
}

export interface RunningServer {
  url: string;
  server: Server;
  services: Services;
  stop(): Promise<void>;
}

/** Starts the HTTP server and the background loop: due request-token work every second, housekeeping every 5 min. */
export async function startServer(config: Config, overrides: ServiceOverrides = {}): Promise<RunningServer> {
  // The port first: a second `npm start` on a busy port says so in one line, before it opens the database or
  // logs anything. Requests in the moment between listening and the app being ready get a 503.
  let handle = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1', connection: 'close' });
    res.end('starting\n');
  };
  const server = createServer((req, res) => handle(req, res));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
      server.listen(config.port, config.host);
    });
  } catch (err) {
    throw listenError(err as NodeJS.ErrnoException, config.host, config.port);
  }
  // The HTTP stack (Koa, the routes, the body parsers) is loaded here, beside the database's opening, rather than
  // with this module: the CLI opens the services without it, and it was most of a command's start.
  const httpApp = import('./http/app.js');
  httpApp.catch(() => {}); // if the services fail first; a failed import itself is thrown where it is awaited
  let services: Services;
  try {
    services = await openServices(config, overrides);
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  }
  handle = (await httpApp).createHttpApp(services).callback();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  let stopping = false;
  const resumeEveryMs = 1_000;
  let ticks = 0;
  const warn = (what: string) => (err: unknown) =>
    services.logger.warn({ err: err instanceof Error ? err.message : String(err) }, what);
  const loop = setInterval(() => {
    if (stopping) return;
    services.activation.resumeDue().catch(warn('resuming due activations failed'));
    if (ticks % 10 === 0) {
      // Cached entries past their TTL (seconds) go: the memory of a burst over many stores is given back.
      services.stores.purgeStale();
      services.keys.purgeStale();
    }
    if (++ticks % 300 === 0) {
      services.accounts.housekeeping().catch(warn('housekeeping failed')); // every 5 minutes
      services.identity.resets.deleteExpired().catch(warn('housekeeping failed')); // issue 14: expired reset links
      services.activation.housekeeping().catch(warn('housekeeping failed')); // issue 13: abandoned bindings
      services.operators.webhooks.purgeHistory().catch(warn('housekeeping failed')); // issue 16: webhook retention
    }
  }, resumeEveryMs);
  loop.unref();
  services.operators.worker.start(); // webhook deliveries (stopped by services.close())
  services.prober.start(); // revocation probes (stopped by services.close())
  return {
    // Where this machine reaches it: loopback when listening on every interface.
    url: `http://${['0.0.0.0', '::', '127.0.0.1'].includes(config.host) ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    server,
    services,
    /**
     * Stops accepting connections, lets requests in flight finish for up to config.shutdownGraceMs (then closes
     * their connections), waits for background work, and closes the database.
     */
    async stop() {
      stopping = true;
      clearInterval(loop);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Keep-alive connections that finish a request during the grace period go idle: close those as they do.
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      const cutoff = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
      try {
        await closed;
      } finally {
        clearInterval(idle);
        clearTimeout(cutoff);
      }
      await services.close();
    },
  };
}
