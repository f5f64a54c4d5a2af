// Webhook subscriptions and their deliveries, as the operator API sees them. No Koa here.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { WebhookDelivery, WebhookEventType, WebhookSubscription } from '../storage/webhooks.js';
import type { Storage } from '../storage/types.js';
import { DEFAULT_WEBHOOK_CONFIG, type WebhookConfig } from './config.js';
import { OperatorError } from './errors.js';
import { purgeWebhookHistory } from './retention.js';
import { newWebhookSecret } from './signature.js';
import { checkWebhookUrl } from './url.js';

export interface WebhooksOptions {
  storage: Storage;
  clock: Clock;
  /** retentionMs: DEFAULT_WEBHOOK_CONFIG's when not given. */
  config: Pick<WebhookConfig, 'allowPrivateUrls'> & Partial<Pick<WebhookConfig, 'retentionMs'>>;
}

/** What the API shows of a subscription: never its secret (that is shown once, on creation). */
export function subscriptionView(s: WebhookSubscription) {
  return {
    id: s.id,
    url: s.url,
    /** null: every event type. */
    events: s.events,
    /** failing: a delivery failed for the whole retry period; its backlog waits for POST .../retry. */
    status: s.failingSince ? ('failing' as const) : ('active' as const),
    failingSince: s.failingSince?.toISOString() ?? null,
    createdAt: s.createdAt.toISOString(),
  };
}

export function deliveryView(d: WebhookDelivery & { type: WebhookEventType }) {
  return {
    /** The delivery's id is its event's id (the Connector-Event-Id header of every attempt). */
    id: d.eventId,
    eventId: d.eventId,
    type: d.type,
    storeId: d.storeId,
    sequence: d.sequence,
    status: d.status,
    attempts: d.attempts,
    /** The receiver's HTTP status on the last attempt; null when it could not be reached (see lastError). */
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
  };
}

export class Webhooks {
  constructor(private readonly o: WebhooksOptions) {}

  /** Retention (WEBHOOK_RETENTION_DAYS, src/webhooks/retention.ts): run by housekeeping every 5 minutes. */
  purgeHistory(): Promise<{ deliveries: number; events: number }> {
    const { storage, clock, config } = this.o;
    return purgeWebhookHistory({ storage, clock, config: { retentionMs: config.retentionMs ?? DEFAULT_WEBHOOK_CONFIG.retentionMs } });
  }

  /** Creates a subscription; the signing secret is returned only here. */
  async create(input: { url: string; events?: WebhookEventType[] | null }): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const url = checkWebhookUrl(input.url, this.o.config.allowPrivateUrls);
    const secret = newWebhookSecret();
    const events = input.events && input.events.length ? [...new Set(input.events)] : null;
    const subscription = await this.o.storage.webhooks.createSubscription({ id: randomUUID(), url, events, secret });
    return { subscription, secret };
  }

  list(): Promise<WebhookSubscription[]> {
    return this.o.storage.webhooks.subscriptions();
  }

  async get(id: string): Promise<WebhookSubscription> {
    const s = await this.o.storage.webhooks.subscription(id);
    if (!s) throw new OperatorError('webhook_not_found', `No webhook with id ${id.slice(0, 100)}: GET /api/webhooks lists them.`);
    return s;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.o.storage.webhooks.deleteSubscription(id))) await this.get(id);
  }

  async deliveries(id: string, limit = 100) {
    await this.get(id);
    return this.o.storage.webhooks.deliveries(id, limit);
  }

  /** Sends a failed (or waiting) delivery again now, with a fresh retry period. */
  async retry(id: string, deliveryId: string): Promise<WebhookDelivery & { type: WebhookEventType }> {
    await this.get(id);
    const key = { eventId: deliveryId, subscriptionId: id };
    const retried = await this.o.storage.webhooks.retry(key, this.o.clock.now());
    const event = retried && (await this.o.storage.webhooks.event(deliveryId));
    if (retried && event) return { ...retried, type: event.type };
    const current = await this.o.storage.webhooks.delivery(key);
    if (!current) throw new OperatorError('delivery_not_found', `Webhook ${id} has no delivery ${deliveryId.slice(0, 100)}: GET /api/webhooks/${id}/deliveries lists them.`);
    throw new OperatorError('delivery_already_delivered', `Delivery ${deliveryId} was delivered at ${current.deliveredAt?.toISOString() ?? 'an earlier time'}; there is nothing to retry.`);
  }
}
