// The composition root: builds every service from the configuration. The server (main.ts), the CLI and the tests
// all start here, so they run the same wiring.
import type { Server } from 'node:http';
import { Accounts } from './accounts/accounts.js';
import { ActivationService } from './activation/service.js';
import { ConnectorClient } from './calls/client.js';
import { StoreCalls } from './calls/store-calls.js';
import { systemClock, type Clock } from './clock.js';
import { checkConfig, type Config } from './config.js';
import { createHttpApp } from './http/app.js';
import { ApiKeyCache } from './http/auth.js';
import type { HttpServices } from './http/context.js';
import { createRenderer } from './http/views.js';
import { createLogger, type Logger } from './log.js';
import { createRestClient } from './protocol/rest-client.js';
import { createTokenEndpoints, type TokenEndpoints } from './protocol/token-endpoints.js';
import { createTransport } from './protocol/transport.js';
import { loadSealer } from './secrets/index.js';
import { createOperatorServices } from './operators/index.js'; // crm
import { openStorage } from './storage/db.js';

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
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const sealer = loadSealer({ secretsKey: config.secretsKey, dataDir: config.dataDir, logger });
  const storage = await openStorage({ databaseUrl: config.databaseUrl, sealer, logger });
  const { limits, durations } = config;
  const transport = createTransport({
    allowPrivate: config.allowPrivateStoreUrls,
    connectTimeoutMs: limits.connectTimeoutMs,
    totalTimeoutMs: limits.totalTimeoutMs,
    maxResponseBytes: limits.maxResponseBytes,
    maxRequestBodyBytes: limits.maxRequestBodyBytes,
    logger,
  });
  const tokens = overrides.tokens ?? createTokenEndpoints({ transport, timeoutMs: limits.tokenCallTimeoutMs, clock });
  const accounts = new Accounts({ storage, clock, durations, limits });
  const activation = new ActivationService({ storage, tokens, clock, durations, limits, logger });
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
  const calls = new StoreCalls({ storage, activation, rest, clock, limits, logger });
  // crm: operator keys, accounts API, webhooks
  const operators = createOperatorServices({ storage, clock, logger, accounts, webhookConfig: config.webhooks, cacheTtlMs: limits.cacheTtlMs });
  return {
    config,
    clock,
    logger,
    storage,
    accounts,
    activation,
    calls,
    keys: new ApiKeyCache(accounts, clock, limits.cacheTtlMs),
    operators, // crm
    client: (accountId) => new ConnectorClient(calls, accountId),
    render: createRenderer(),
    csrfKey: sealer.deriveKey('csrf'),
    async close() {
      await activation.drain();
      await operators.worker.stop(); // crm: waits for deliveries in flight
      transport.close();
      await storage.close();
    },
  };
}

export interface RunningServer {
  url: string;
  server: Server;
  services: Services;
  stop(): Promise<void>;
}

/** Starts the HTTP server and the background loop: due request-token work every second, housekeeping every 5 min. */
export async function startServer(config: Config, overrides: ServiceOverrides = {}): Promise<RunningServer> {
  const services = await openServices(config, overrides);
  const app = createHttpApp(services);
  const server = app.listen(config.port, '0.0.0.0');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (err) {
    await services.close(); // a busy port must not leave the database pool and sockets open behind it
    throw err;
  }
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
    if (++ticks % 300 === 0) services.accounts.housekeeping().catch(warn('housekeeping failed')); // every 5 minutes
  }, resumeEveryMs);
  loop.unref();
  services.operators.worker.start(); // crm: webhook deliveries (stopped by services.close())
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    services,
    async stop() {
      stopping = true;
      clearInterval(loop);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await services.close();
    },
  };
}
