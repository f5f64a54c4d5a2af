// Configuration from the environment, validated once at start. Every duration that comes from Magento (its 300 s
// request-token window, the two-hour life of a request token) or from us (waits, retries, throttling) lives here
// with Magento's defaults, so tests and unusual stores can change it.
import { z } from 'zod';
import { DEFAULT_DATABASE_URL } from './storage/database-url.js';
import { loadWebhookConfig, type WebhookConfig } from './webhooks/config.js'; // crm

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: z.string().url().optional(),
  DATABASE_URL: z.string().min(1).default(DEFAULT_DATABASE_URL),
  SECRETS_KEY: z.string().optional(),
  ALLOW_PRIVATE_STORE_URLS: bool.default(false),
  TRUST_PROXY: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().default('./data'),
  METRICS_TOKEN: z.string().optional(), // crm
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
}

export interface Config {
  port: number;
  publicUrl: string;
  databaseUrl: string;
  secretsKey: string | undefined;
  allowPrivateStoreUrls: boolean;
  trustProxy: boolean;
  logLevel: string;
  dataDir: string;
  durations: Durations;
  limits: Limits;
  /** crm: webhook delivery (ALLOW_PRIVATE_WEBHOOK_URLS and durations, src/webhooks/config.ts) */
  webhooks: WebhookConfig;
  /** crm: METRICS_TOKEN, required as a Bearer token on GET /metrics when set. */
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
};

export class ConfigError extends Error {}

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
  return {
    port: e.PORT,
    publicUrl,
    databaseUrl: e.DATABASE_URL,
    secretsKey: e.SECRETS_KEY || undefined,
    allowPrivateStoreUrls: e.ALLOW_PRIVATE_STORE_URLS,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    durations: { ...DEFAULT_DURATIONS },
    limits: { ...DEFAULT_LIMITS },
    webhooks: loadWebhookConfig(env), // crm
    metricsToken: e.METRICS_TOKEN || undefined, // crm
    ...overrides,
  };
}
