// Configuration from the environment, validated once at start. Every duration that comes from Magento (its 300 s
// request-token window, the two-hour life of a request token) or from us (waits, retries, throttling) lives here
// with Magento's defaults, so tests and unusual stores can change it.
import { z } from 'zod';
import { ConnectorError } from './errors.js';
import type { LogFormat } from './log.js';
import { parseSecretsKey, SecretsKeyError } from './secrets/sealer.js';
import { defaultDatabaseUrl, providerOf } from './storage/database-url.js';
import { DEFAULT_WEBHOOK_CONFIG, type WebhookConfig } from './webhooks/config.js';
import { DEFAULT_PROBE_CONFIG, type ProbeConfig } from './probes/prober.js';
import { HEAP_BUDGET_BYTES } from './heap.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Listen address: all interfaces by default (a reverse proxy or container publishes the port). */
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: z.string().url().optional(),
  /** Unset: the SQLite file $DATA_DIR/connector.db. */
  DATABASE_URL: z.string().min(1).optional(),
  SECRETS_KEY: z.string().optional(),
  ALLOW_PRIVATE_STORE_URLS: bool.default(false),
  TRUST_PROXY: bool.default(false),
  /**
   * With TRUST_PROXY: how many proxies of ours append to X-Forwarded-For. The client's address is the entry the
   * outermost of them added (counted from the right); entries left of it are whatever the client sent.
   */
  TRUSTED_PROXY_COUNT: z.coerce.number().int().min(1).max(10).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** auto: readable lines on a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  DATA_DIR: z.string().min(1).default('./data'),
  /** How long a stopping server lets requests in flight finish before closing their connections. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
  /** Server processes on one port (node's cluster; src/cluster.ts): 1 is a single process, as before. */
  WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /** Where npm start aims V8's old-generation growth after each full GC (src/heap.ts); 0: V8's own growth. */
  HEAP_BUDGET_MB: z.coerce.number().int().min(0).max(65_536).default(HEAP_BUDGET_BYTES / (1024 * 1024)),
  /** http and private-address webhook receivers (development and tests only). */
  ALLOW_PRIVATE_WEBHOOK_URLS: bool.default(false),
  /** Days delivered and failed webhook deliveries (then their events) are kept after their last attempt; 0: forever. */
  WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(30),
  METRICS_TOKEN: z.string().optional(),
  /** Revocation probes (src/probes/prober.ts): every active store is probed at least this often... */
  PROBE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(30 * 86_400).default(3600),
  /** ...with at most this many probes started per second per instance; 0 turns probing off. */
  PROBE_RATE_PER_SECOND: z.coerce.number().min(0).max(10_000).default(10),
  // issue 13: the shared activation URLs, and the limits on callbacks and bindings
  /** The shared /magento/callback and /magento/identity (sign-up inside the popup); off: per-account URLs only. */
  OPEN_SIGNUP_ACTIVATION: bool.default(false),
  CALLBACK_RATE_PER_ACCOUNT: z.coerce.number().int().min(1).optional(),
  CALLBACK_RATE_PER_ADDRESS: z.coerce.number().int().min(1).optional(),
  PENDING_BINDINGS_PER_ACCOUNT: z.coerce.number().int().min(1).optional(),
  MAX_STORES_PER_ACCOUNT: z.coerce.number().int().min(1).optional(),
  // ---- issue 13: bounds on calls to stores (src/store-api/limits.ts), per instance ----
  /** Requests in flight to one store at once on an instance; more wait in its queue (100), then 503 store_busy. */
  PER_STORE_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(8),
  /** Calls to its stores one account may have in flight at once (proxy, GraphQL, TypeScript client); then 429. */
  MAX_CALLS_PER_ACCOUNT: z.coerce.number().int().min(1).max(100_000).default(64),
  /** Calls to stores in flight at once in all; then 503. */
  MAX_CALLS: z.coerce.number().int().min(1).max(1_000_000).default(1024),
  /** MiB the responses being received for one account may hold at once; a response that would exceed it fails. */
  MAX_RESPONSE_BUFFER_MB_PER_ACCOUNT: z.coerce.number().int().min(1).max(65_536).default(64),
  /** MiB all responses being received may hold at once. */
  MAX_RESPONSE_BUFFER_MB: z.coerce.number().int().min(1).max(65_536).default(256),
});




export interface Durations {
  /** Magento's oauth/consumer/expiration_period: the request-token call must come this soon after the callback. */
  magentoWindowMs: number;
  /** How long the popup waits for a request token that another step is still fetching. */
  requestTokenWaitMs: number;
  /** First retry delay of the request-token fetch; doubles with jitter, capped by retryMaxDelayMs. */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** How long one instance's claim on a step lasts before another instance may take it over. */
  stepLeaseMs: number;
  sessionLifeMs: number;
  throttleWindowMs: number;
  /** Issue 15: how long an unavailable store's calls fail fast before one trial call is let through. */
  storeCooldownMs: number;
  /** Issue 15: how long the store views of a store (GET /V1/store/storeViews) are served from memory. */
  storeViewsTtlMs: number;
  /** A binding that never completed is deleted (with its secrets) this long after Magento's window closed. */
  abandonedBindingMs: number;
}

export interface Limits {
  loginFailuresPerEmail: number;
  loginFailuresPerAddress: number;
  /** Sign-ups from one client address per throttling window (web forms only). */
  signupsPerAddress: number;
  callbackBodyBytes: number;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  /** Timeout of the token-endpoint calls (request and access token). */
  tokenCallTimeoutMs: number;
  maxResponseBytes: number;
  maxRequestBodyBytes: number;
  retryAfterCapMs: number;
  maxRetries: number;
  perStoreConcurrency: number;
  perStoreQueue: number;
  /** How long an instance may serve an API key or binding from its cache after it was revoked elsewhere. */
  cacheTtlMs: number;
  /** Request-token fetches run at once per instance (the rest wait in a queue, well inside Magento's window). */
  backgroundConcurrency: number;
  /** Issue 15: 502/503/504 or unreachable this many calls in a row marks a store unavailable (per instance). */
  storeFailuresBeforeUnavailable: number;
  /** Callbacks per minute through one account's Callback URL, and from one client address (429 beyond). */
  callbackRatePerAccount: number;
  callbackRatePerAddress: number;
  /** Bindings of one account that never completed; the oldest beyond this are deleted. */
  pendingBindingsPerAccount: number;
  /** Stores (bindings in any state) one account may have; a callback beyond it is refused. */
  maxStoresPerAccount: number;
  /** Request-token fetches at once to one store host, so a tarpit cannot hold every background slot. */
  requestTokenPerHost: number;
  /** Issue 13 (src/store-api/limits.ts): calls in flight per account (MAX_CALLS_PER_ACCOUNT) and in all (MAX_CALLS). */
  callsPerAccount: number;
  callsInFlight: number;
  /** Issue 13: bytes the responses being received may hold, per account and in all (MAX_RESPONSE_BUFFER_MB...). */
  responseBufferBytesPerAccount: number;
  responseBufferBytes: number;
}

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string;
  secretsKey: string | undefined;
  allowPrivateStoreUrls: boolean;
  trustProxy: boolean;
  /** TRUSTED_PROXY_COUNT: X-Forwarded-For entries (from the right) our own proxies added; Koa's maxIpsCount. */
  trustedProxyCount: number;
  logLevel: string;
  logFormat: LogFormat;
  dataDir: string;
  shutdownGraceMs: number;
  /** OPEN_SIGNUP_ACTIVATION: the shared activation URLs answer (issue 13). */
  openSignupActivation: boolean;
  /** WORKERS: server processes sharing the port, each a full instance (src/cluster.ts). */
  workers: number;
  /** HEAP_BUDGET_MB in bytes: src/heap.ts's budget for the old generation's next limit; 0: V8's own growth. */
  heapBudgetBytes: number;
  durations: Durations;
  limits: Limits;
  /** Sign-in with an OpenID provider, local accounts, password resets and mail (issue 14). */
  identity: IdentityConfig;
  /** Webhook delivery (ALLOW_PRIVATE_WEBHOOK_URLS and durations, src/webhooks/config.ts). */
  webhooks: WebhookConfig;
  /** PROBE_INTERVAL_SECONDS, PROBE_RATE_PER_SECOND (src/probes/prober.ts). */
  probes: ProbeConfig;
  /** METRICS_TOKEN: required as a Bearer token on GET /metrics when set. */
  metricsToken: string | undefined;
}

export const DEFAULT_DURATIONS: Durations = {
  magentoWindowMs: 300_000,
  requestTokenWaitMs: 20_000,
  retryBaseDelayMs: 1_000,
  retryMaxDelayMs: 30_000,
  stepLeaseMs: 30_000,
  sessionLifeMs: 7 * 24 * 3600_000,
  throttleWindowMs: 15 * 60_000,
  storeCooldownMs: 30_000,
  storeViewsTtlMs: 60_000,
  abandonedBindingMs: 6 * 3600_000,
};

export const DEFAULT_LIMITS: Limits = {
  loginFailuresPerEmail: 5,
  loginFailuresPerAddress: 20,
  signupsPerAddress: 20,
  callbackBodyBytes: 16 * 1024,
  connectTimeoutMs: 5_000,
  totalTimeoutMs: 30_000,
  tokenCallTimeoutMs: 10_000,
  maxResponseBytes: 20 * 1024 * 1024,
  maxRequestBodyBytes: 10 * 1024 * 1024,
  retryAfterCapMs: 60_000,
  maxRetries: 3,
  perStoreConcurrency: 8,
  perStoreQueue: 100,
  cacheTtlMs: 5_000,
  backgroundConcurrency: 16,
  storeFailuresBeforeUnavailable: 5,
  callbackRatePerAccount: 60,
  callbackRatePerAddress: 120,
  pendingBindingsPerAccount: 20,
  maxStoresPerAccount: 500,
  requestTokenPerHost: 2,
  callsPerAccount: 64,
  callsInFlight: 1024,
  responseBufferBytesPerAccount: 64 * 1024 * 1024,
  responseBufferBytes: 256 * 1024 * 1024,
};

const MIB = 1024 * 1024;
const mib = (bytes: number): string => String(Math.round((bytes / MIB) * 100) / 100);

/** A setting is missing, malformed or contradicts another: the process says so in one line and exits with 2. */
export class ConfigError extends ConnectorError<'invalid_config'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('invalid_config', message, options);
  }
}

/**
 * Checks the relations between settings that code relies on. A step's claim must outlast the token call it covers
 * (plus its database writes), or a second instance would take over a step that is still running.
 */
export function checkConfig(config: Config): Config {
  const { durations, limits } = config;
  if (durations.stepLeaseMs < limits.tokenCallTimeoutMs + 1_000) {
    throw new ConfigError(`stepLeaseMs (${durations.stepLeaseMs}) must exceed tokenCallTimeoutMs (${limits.tokenCallTimeoutMs}) by at least 1000 ms`);
  }
  if (!(limits.backgroundConcurrency >= 1) || !(limits.perStoreConcurrency >= 1)) {
    throw new ConfigError('backgroundConcurrency and perStoreConcurrency must be at least 1');
  }
  // A budget smaller than one response could never receive the largest answer a store may send.
  if (limits.responseBufferBytesPerAccount < limits.maxResponseBytes || limits.responseBufferBytes < limits.responseBufferBytesPerAccount) {
    throw new ConfigError(
      `MAX_RESPONSE_BUFFER_MB_PER_ACCOUNT (${mib(limits.responseBufferBytesPerAccount)} MiB) must be at least the response cap ` +
        `(${mib(limits.maxResponseBytes)} MiB), and MAX_RESPONSE_BUFFER_MB (${mib(limits.responseBufferBytes)} MiB) at least MAX_RESPONSE_BUFFER_MB_PER_ACCOUNT`,
    );
  }
  if (limits.callsInFlight < limits.callsPerAccount) {
    throw new ConfigError(`MAX_CALLS (${limits.callsInFlight}) must be at least MAX_CALLS_PER_ACCOUNT (${limits.callsPerAccount})`);
  }
  checkIdentityConfig(config.identity);
  return config;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid environment: ${problems}`);
  }
  const e = parsed.data;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const databaseUrl = e.DATABASE_URL ?? defaultDatabaseUrl(e.DATA_DIR);
  try {
    providerOf(databaseUrl);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const secretsKey = e.SECRETS_KEY?.trim() || undefined;
  // Checked here, before anything touches the database: a typo in the key must not get as far as a migration.
  if (secretsKey) {
    try {
      parseSecretsKey(secretsKey);
    } catch (err) {
      if (err instanceof SecretsKeyError) throw new ConfigError(err.message);
      throw err;
    }
  }
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    databaseUrl,
    secretsKey,
    allowPrivateStoreUrls: e.ALLOW_PRIVATE_STORE_URLS,
    trustProxy: e.TRUST_PROXY,
    trustedProxyCount: e.TRUSTED_PROXY_COUNT,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    dataDir: e.DATA_DIR,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    openSignupActivation: e.OPEN_SIGNUP_ACTIVATION,
    workers: e.WORKERS,
    heapBudgetBytes: e.HEAP_BUDGET_MB * 1024 * 1024,
    durations: { ...DEFAULT_DURATIONS },
    limits: {
      ...DEFAULT_LIMITS,
      ...(e.CALLBACK_RATE_PER_ACCOUNT && { callbackRatePerAccount: e.CALLBACK_RATE_PER_ACCOUNT }),
      ...(e.CALLBACK_RATE_PER_ADDRESS && { callbackRatePerAddress: e.CALLBACK_RATE_PER_ADDRESS }),
      ...(e.PENDING_BINDINGS_PER_ACCOUNT && { pendingBindingsPerAccount: e.PENDING_BINDINGS_PER_ACCOUNT }),
      ...(e.MAX_STORES_PER_ACCOUNT && { maxStoresPerAccount: e.MAX_STORES_PER_ACCOUNT }),
      perStoreConcurrency: e.PER_STORE_CONCURRENCY,
      callsPerAccount: e.MAX_CALLS_PER_ACCOUNT,
      callsInFlight: e.MAX_CALLS,
      responseBufferBytesPerAccount: e.MAX_RESPONSE_BUFFER_MB_PER_ACCOUNT * MIB,
      responseBufferBytes: e.MAX_RESPONSE_BUFFER_MB * MIB,
    },
    identity: loadIdentityConfig(env, publicUrl),
    webhooks: { ...DEFAULT_WEBHOOK_CONFIG, allowPrivateUrls: e.ALLOW_PRIVATE_WEBHOOK_URLS, retentionMs: e.WEBHOOK_RETENTION_DAYS * 86_400_000 },
    probes: { ...DEFAULT_PROBE_CONFIG, intervalMs: e.PROBE_INTERVAL_SECONDS * 1000, ratePerSecond: e.PROBE_RATE_PER_SECOND },
    metricsToken: e.METRICS_TOKEN || undefined,
    ...overrides,
  };
}

// ---- identity (issue 14): OpenID Connect, local accounts, password resets, mail ------------------------------------
// One block on purpose: OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_NAME, OIDC_ALLOW_HTTP, LOCAL_ACCOUNTS,
// SMTP_URL, MAIL_FROM. Read by loadConfig (identity: loadIdentityConfig(env, publicUrl)), checked by checkConfig.

const IdentityEnvSchema = z.object({
  OIDC_ISSUER: z.string().url().optional().or(z.literal('')),
  OIDC_CLIENT_ID: z.string().max(500).optional(),
  OIDC_CLIENT_SECRET: z.string().max(2000).optional(),
  OIDC_NAME: z.string().max(60).optional(),
  /** An http:// issuer is refused unless this is true (a provider on the same laptop, tests). */
  OIDC_ALLOW_HTTP: bool.default(false),
  LOCAL_ACCOUNTS: bool.default(true),
  SMTP_URL: z.string().url().optional().or(z.literal('')),
  MAIL_FROM: z.string().max(300).optional(),
});

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The button's words: "Sign in with <name>". */
  name: string;
  allowHttp: boolean;
}

export interface IdentityConfig {
  localAccounts: boolean;
  /** null when OIDC_ISSUER is not set. */
  oidc: OidcConfig | null;
  /** Without it, mails are written to $DATA_DIR/outbox/ and their links logged. */
  smtpUrl: string | null;
  mailFrom: string;
  /** A password-reset link's life (30 minutes). */
  resetLinkLifeMs: number;
  /** How long the browser may take for the round trip to the provider and back. */
  oidcRoundTripMs: number;
  /** Each call to the provider (discovery, JWKS, token endpoint). */
  oidcTimeoutMs: number;
  /** Reset requests per email and per client address per throttling window. */
  resetRequestsPerEmail: number;
  resetRequestsPerAddress: number;
  /** Wrong current passwords on the change-password form per account per throttling window. */
  passwordChangeFailures: number;
}

export function loadIdentityConfig(env: NodeJS.ProcessEnv, publicUrl: string): IdentityConfig {
  const parsed = IdentityEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid environment: ${problems}`);
  }
  const e = parsed.data;
  const id = e.OIDC_CLIENT_ID?.trim() ?? '';
  const secret = e.OIDC_CLIENT_SECRET ?? '';
  if (!e.OIDC_ISSUER && (id || secret)) {
    throw new ConfigError('OIDC_CLIENT_ID or OIDC_CLIENT_SECRET is set without OIDC_ISSUER: set the issuer too, or neither');
  }
  const host = URL.canParse(publicUrl) ? new URL(publicUrl).hostname : 'localhost';
  return {
    localAccounts: e.LOCAL_ACCOUNTS,
    oidc: e.OIDC_ISSUER
      ? { issuer: e.OIDC_ISSUER, clientId: id, clientSecret: secret, name: e.OIDC_NAME?.trim() || 'your company account', allowHttp: e.OIDC_ALLOW_HTTP }
      : null,
    smtpUrl: e.SMTP_URL || null,
    mailFrom: e.MAIL_FROM?.trim() || `Magento Connector <no-reply@${host}>`,
    resetLinkLifeMs: 30 * 60_000,
    oidcRoundTripMs: 10 * 60_000,
    oidcTimeoutMs: 10_000,
    resetRequestsPerEmail: 3,
    resetRequestsPerAddress: 20,
    passwordChangeFailures: 5,
  };
}

export function checkIdentityConfig(identity: IdentityConfig): void {
  const { oidc } = identity;
  if (!identity.localAccounts && !oidc) {
    throw new ConfigError('LOCAL_ACCOUNTS=false needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET: otherwise nobody can sign in');
  }
  if (!oidc) return;
  if (!oidc.clientId || !oidc.clientSecret) {
    throw new ConfigError('OIDC_ISSUER is set: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set too (register the connector as a client at the provider)');
  }
  const issuer = new URL(oidc.issuer);
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && oidc.allowHttp)) {
    throw new ConfigError(`OIDC_ISSUER must be an https:// URL (${issuer.protocol} given; OIDC_ALLOW_HTTP=true allows http:// for a local provider)`);
  }
}
// ---- end of identity block -------------------------------------------------------------------------------------------

/** The environment variables the connector reads (.env.example and the README's table document each). */
export const ENV_VARIABLES: readonly string[] = [...Object.keys(EnvSchema.shape), ...Object.keys(IdentityEnvSchema.shape)];
