// The delivery worker. Every instance runs one; they share the work through the database:
//   - a delivery is sent only by the instance that claimed it (a conditional update, with a claim that outlasts the
//     attempt's total timeout), so no delivery is sent twice at the same time;
//   - a claim of an instance that died runs out and the delivery becomes due again for any instance;
//   - only the head of each (webhook, store) queue is due, so one store's events reach a receiver in order: a later
//     event waits while an earlier one is still failing;
//   - a failed attempt is retried with exponential backoff and jitter, with the same event id and body, for the
//     retry period; after it the delivery is `failed`, its webhook is marked failing, and the queue behind it waits
//     for POST /api/webhooks/:id/deliveries/:deliveryId/retry.
// Outbound calls go through the protocol transport: its egress guard (public addresses only unless
// ALLOW_PRIVATE_WEBHOOK_URLS), no redirects followed, connect and total timeouts.
import { randomUUID } from 'node:crypto';
import { sleep, type Clock } from '../clock.js';
import { StorageUnavailableError } from '../storage/errors.js';
import type { Logger } from '../log.js';
import { createTransport, type Transport } from '../protocol/transport.js';
import type { Storage } from '../storage/types.js';
import type { ClaimedDelivery, DeliveryKey, DeliveryOutcome } from '../storage/webhooks.js';
import { backoffDelayMs } from '../protocol/backoff.js';
import { checkWebhookConfig, type WebhookConfig } from './config.js';
import { ResponsiveDeadlines } from './deadline.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';

export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'lost_claim';

export interface DeliveryWorkerOptions {
  storage: Storage;
  clock: Clock;
  config: WebhookConfig;
  logger: Logger;
  /** Names this instance in claims (logs); a random id by default. */
  instanceId?: string;
  /** Called after every attempt (metrics). */
  onAttempt?: (outcome: AttemptOutcome) => void;
  /** Tests: a transport of their own (still the protocol transport); by default one built from config. */
  transport?: Transport;
  random?: () => number;
}

const LAST_ERROR_MAX = 300;
// How long an attempt's outcome is retried while the database refuses the write (see finish()).
const FINISH_RETRY_MS = 10 * 60_000;

/** The delivery body, byte-identical on every attempt: the stored data is embedded as it was written. */
export function deliveryBody(event: ClaimedDelivery['event']): string {
  return `{"id":${JSON.stringify(event.id)},"type":${JSON.stringify(event.type)},"createdAt":${JSON.stringify(event.createdAt.toISOString())},"data":${event.payload}}`;
}

/** Backoff before attempt n+1 after n failed attempts: the one backoff (protocol/backoff.ts) with the webhook settings. */
export function backoffMs(config: Pick<WebhookConfig, 'retryBaseDelayMs' | 'retryMaxDelayMs'>, attempts: number, random: () => number): number {
  return backoffDelayMs(attempts - 1, { baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs }, random);
}

export class DeliveryWorker {
  readonly instanceId: string;
  private readonly transport: Transport;
  private readonly ownsTransport: boolean;
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private running = false;
  private readonly random: () => number;
  // The total timeout, counted in time this process could run (a synchronous SQLite lock wait is not the receiver's).
  private readonly deadlines = new ResponsiveDeadlines();

  constructor(private readonly o: DeliveryWorkerOptions) {
    checkWebhookConfig(o.config);
    this.instanceId = o.instanceId ?? randomUUID().slice(0, 8);
    this.random = o.random ?? Math.random;
    this.ownsTransport = !o.transport;
    this.transport =
      o.transport ??
      createTransport({
        allowPrivate: o.config.allowPrivateUrls,
        connectTimeoutMs: o.config.connectTimeoutMs,
        totalTimeoutMs: o.config.totalTimeoutMs,
        maxResponseBytes: o.config.maxResponseBytes,
        logger: o.logger,
      });
  }

  /** Polls for due deliveries every pollIntervalMs, and whenever an attempt ends, until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  private tick(): void {
    if (!this.running) return;
    this.kicked = false;
    this.polling = this.poll()
      .then(() => undefined)
      .catch((err: unknown) => this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'webhook poll failed'))
      .finally(() => {
        this.polling = undefined;
        if (!this.running) return;
        // An attempt that ended during this poll may have unblocked its store's next event: look again at once.
        this.timer = setTimeout(() => this.tick(), this.kicked ? 0 : this.o.config.pollIntervalMs);
        this.timer.unref();
      });
  }

  /** An attempt ended: poll again now (or right after the poll in progress), not at the next interval. */
  private kick(): void {
    if (!this.running) return;
    this.kicked = true;
    if (this.polling) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), 0);
    this.timer.unref();
  }

  private kicked = false;

  /** Stops polling and waits for the attempts in flight (their claims are released by their outcome). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.polling;
    await Promise.allSettled([...this.inFlight.values()]);
    if (this.ownsTransport) this.transport.close();
  }

  /** One look for due deliveries; starts as many as there is room for. Resolves once they are started. */
  async poll(): Promise<number> {
    const room = this.o.config.concurrency - this.inFlight.size;
    if (room <= 0) return 0;
    const due = await this.o.storage.webhooks.due(this.o.clock.now(), room + this.inFlight.size);
    let started = 0;
    for (const key of due) {
      const id = `${key.eventId}/${key.subscriptionId}`;
      if (this.inFlight.has(id) || this.inFlight.size >= this.o.config.concurrency) continue;
      const attempt = this.attempt(key)
        .then((outcome) => this.o.onAttempt?.(outcome))
        .catch((err: unknown) => this.o.logger.warn({ eventId: key.eventId, err: err instanceof Error ? err.message : String(err) }, 'webhook attempt failed'))
        .finally(() => {
          this.inFlight.delete(id);
          this.kick(); // the next event of this store (or another due delivery) may go now
        });
      this.inFlight.set(id, attempt);
      started++;
    }
    return started;
  }

  /** Polls and waits for every attempt it started, until nothing is due (tests, benchmarks). */
  async drain(maxRounds = 1_000): Promise<void> {
    for (let i = 0; i < maxRounds; i++) {
      const started = await this.poll();
      await Promise.allSettled([...this.inFlight.values()]);
      if (started === 0 && this.inFlight.size === 0) return;
    }
  }

  /**
   * Records an attempt's outcome, retrying while the database is unavailable (a busy SQLite under another process's
   * writes, a PostgreSQL failover): an outcome lost after a 2xx would leave the delivery claimed, and it would be sent
   * again once the claim runs out. So it keeps trying past the claim (for FINISH_RETRY_MS while running; within the
   * claim once stopping): the write is conditional on our claim, so a late one can never overwrite a takeover's, and
   * until it lands this instance does not send the delivery again (it is still in flight here).
   */
  private async finish(key: DeliveryKey, owner: string, outcome: DeliveryOutcome): Promise<boolean> {
    const started = Date.now();
    for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
      try {
        return await this.o.storage.webhooks.finish(key, owner, outcome);
      } catch (err) {
        const giveUpAt = started + (this.running ? FINISH_RETRY_MS : this.o.config.claimMs / 2);
        if (!(err instanceof StorageUnavailableError) || Date.now() + wait > giveUpAt) throw err;
        this.o.logger.warn({ eventId: key.eventId, err: err.message }, 'recording a webhook attempt failed; retrying');
        await sleep(wait);
      }
    }
  }

  /** Claims one delivery and makes one attempt; lost_claim when another instance had it. */
  async attempt(key: DeliveryKey): Promise<AttemptOutcome> {
    const { storage, clock, config, logger } = this.o;
    const owner = `${this.instanceId}.${randomUUID()}`;
    const now = clock.now();
    const claimed = await storage.webhooks.claim(key, owner, now, new Date(now.getTime() + config.claimMs));
    if (!claimed) return 'lost_claim';
    const { delivery, event, subscription } = claimed;
    const body = deliveryBody(event);
    const started = clock.now();
    let status: number | null = null;
    let error: string | null = null;
    const deadline = this.deadlines.start(config.totalTimeoutMs);
    try {
      const response = await this.transport.request({
        method: 'POST',
        url: subscription.url,
        signal: deadline.signal,
        // The transport's own timer is only the hard cap under an endless stall; the attempt must end within its claim.
        timeoutMs: Math.max(config.totalTimeoutMs, config.claimMs - 1_000),
        headers: {
          'Content-Type': 'application/json',
          [EVENT_ID_HEADER]: event.id,
          [SIGNATURE_HEADER]: signatureHeader(subscription.secret, Math.floor(started.getTime() / 1000), body),
          'User-Agent': 'magento-connector-webhooks',
        },
        body,
      });
      status = response.status;
      if (status < 200 || status >= 300) error = `the receiver answered ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      error = deadline.expired
        ? `upstream_timeout: the receiver did not answer within ${config.totalTimeoutMs} ms`
        : `${typeof code === 'string' ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}`.slice(0, LAST_ERROR_MAX);
    } finally {
      deadline.clear();
    }
    const ended = clock.now();
    const periodStart = delivery.firstAttemptAt ?? started;
    let outcome: DeliveryOutcome;
    let result: AttemptOutcome;
    if (error === null) {
      result = 'delivered';
      outcome = { status: 'delivered', nextAttemptAt: delivery.nextAttemptAt, firstAttemptAt: periodStart, lastAttemptAt: started, lastStatus: status, lastError: null, deliveredAt: ended };
    } else if (ended.getTime() - periodStart.getTime() >= config.retryPeriodMs) {
      result = 'failed';
      outcome = { status: 'failed', nextAttemptAt: delivery.nextAttemptAt, firstAttemptAt: periodStart, lastAttemptAt: started, lastStatus: status, lastError: error, deliveredAt: null };
    } else {
      result = 'retry';
      const next = new Date(ended.getTime() + backoffMs(config, delivery.attempts, this.random));
      outcome = { status: 'pending', nextAttemptAt: next, firstAttemptAt: periodStart, lastAttemptAt: started, lastStatus: status, lastError: error, deliveredAt: null };
    }
    if (!(await this.finish(key, owner, outcome))) {
      // Our claim ran out and another instance took the delivery over: its outcome is the one that counts.
      logger.warn({ eventId: event.id, webhookId: subscription.id }, 'webhook attempt outlived its claim');
      return 'lost_claim';
    }
    if (result === 'delivered') {
      if (subscription.failingSince) await storage.webhooks.clearFailing(subscription.id);
    } else if (result === 'failed') {
      await storage.webhooks.markFailing(subscription.id, ended);
      logger.warn({ eventId: event.id, webhookId: subscription.id, attempts: delivery.attempts }, 'webhook delivery failed for the whole retry period: webhook marked failing');
    } else {
      logger.debug({ eventId: event.id, webhookId: subscription.id, status, attempts: delivery.attempts }, 'webhook attempt failed; will retry');
    }
    return result;
  }
}
