// Webhook delivery settings. Durations are ours (nothing here comes from Magento); tests shorten them and move the
// injected Clock instead of waiting.

export interface WebhookConfig {
  /** ALLOW_PRIVATE_WEBHOOK_URLS: http and loopback/private receivers (development and tests only). */
  allowPrivateUrls: boolean;
  /** DNS + TCP + TLS of a connection to a receiver. */
  connectTimeoutMs: number;
  /** Whole attempt, until the receiver's answer is complete. */
  totalTimeoutMs: number;
  /** Cap on a receiver's answer body (we read only its status). */
  maxResponseBytes: number;
  /** First retry delay; doubles per attempt (with jitter) up to retryMaxDelayMs. */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** How long a delivery is retried, from its first attempt, before it is marked failed (and its webhook failing). */
  retryPeriodMs: number;
  /** How long an instance's claim on a delivery lasts; a dead instance's claims are taken over after it. */
  claimMs: number;
  /** How often each instance looks for due deliveries. */
  pollIntervalMs: number;
  /** Deliveries in flight per instance (each to a different store's queue). */
  concurrency: number;
  /**
   * WEBHOOK_RETENTION_DAYS: delivered and failed deliveries are removed this long after their last attempt, and
   * events once none of their deliveries is left (src/webhooks/retention.ts); 0 keeps them forever.
   */
  retentionMs: number;
}

export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = {
  allowPrivateUrls: false,
  connectTimeoutMs: 5_000,
  totalTimeoutMs: 10_000,
  maxResponseBytes: 1024 * 1024,
  retryBaseDelayMs: 10_000,
  retryMaxDelayMs: 3600_000,
  retryPeriodMs: 24 * 3600_000,
  claimMs: 30_000,
  pollIntervalMs: 1_000,
  concurrency: 16,
  retentionMs: 30 * 86_400_000,
};

export class WebhookConfigError extends Error {
  override name = 'WebhookConfigError';
}

/** A claim must outlast the attempt it covers, or a second instance would send a delivery that is still in flight. */
export function checkWebhookConfig(c: WebhookConfig): WebhookConfig {
  if (c.claimMs < c.totalTimeoutMs + 1_000) {
    throw new WebhookConfigError(`webhooks.claimMs (${c.claimMs}) must exceed webhooks.totalTimeoutMs (${c.totalTimeoutMs}) by at least 1000 ms`);
  }
  if (c.retryPeriodMs < 0 || c.retryBaseDelayMs <= 0 || c.retryMaxDelayMs < c.retryBaseDelayMs) {
    throw new WebhookConfigError('webhooks: retryBaseDelayMs must be positive and at most retryMaxDelayMs');
  }
  if (!(c.retentionMs >= 0)) throw new WebhookConfigError('webhooks: retentionMs must be 0 (keep forever) or positive');
  if (!(c.concurrency >= 1) || !(c.pollIntervalMs > 0)) throw new WebhookConfigError('webhooks: concurrency and pollIntervalMs must be positive');
  return c;
}
