// Persistence of lifecycle webhooks: subscriptions (secret sealed at rest), the outbox of events, and one delivery
// row per (event, subscription) that the delivery worker claims with conditional updates.
// The Prisma implementation, and the statements that emit an event inside a state change: prisma/webhooks.ts.

export const WEBHOOK_EVENT_TYPES = [
  'store.connected',
  'store.reauthorized',
  'store.revoked',
  'store.failed',
  'store.deleted',
  'store.unavailable',
  'store.available',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface NewWebhookEvent {
  /** Defaults to a random UUID. It is the Connector-Event-Id of every delivery of this event. */
  id?: string;
  type: WebhookEventType;
  storeId: string;
  accountId: string | null;
  /** The event body's "data": { store: <as GET /api/stores/:id>, account: { id, externalId } }. JSON-serialisable. */
  data: unknown;
  createdAt: Date;
}

export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  storeId: string;
  accountId: string | null;
  /** The JSON text of the event's data, exactly as stored. */
  payload: string;
  sequence: number;
  createdAt: Date;
}

export interface WebhookSubscription {
  id: string;
  url: string;
  /** null: every event type. */
  events: WebhookEventType[] | null;
  secret: string;
  createdAt: Date;
  failingSince: Date | null;
}

export interface WebhookDelivery {
  eventId: string;
  subscriptionId: string;
  storeId: string;
  sequence: number;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  firstAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  claimedBy: string | null;
  claimUntil: Date | null;
  createdAt: Date;
}

export interface DeliveryKey {
  eventId: string;
  subscriptionId: string;
}

/** A claimed delivery with what it takes to send it. */
export interface ClaimedDelivery {
  delivery: WebhookDelivery;
  event: WebhookEvent;
  subscription: WebhookSubscription;
}

/** What an attempt's outcome writes. */
export type DeliveryOutcome = Pick<WebhookDelivery, 'status' | 'nextAttemptAt' | 'firstAttemptAt' | 'lastAttemptAt' | 'lastStatus' | 'lastError' | 'deliveredAt'>;

export interface WebhookRepository {
  createSubscription(s: { id: string; url: string; events: WebhookEventType[] | null; secret: string }): Promise<WebhookSubscription>;
  subscriptions(): Promise<WebhookSubscription[]>;
  subscription(id: string): Promise<WebhookSubscription | null>;
  /** Deletes the subscription and its deliveries; false when there was none. */
  deleteSubscription(id: string): Promise<boolean>;
  /** Writes an event and its deliveries in a transaction of their own (for callers with no state change to join). */
  appendEvent(event: NewWebhookEvent): Promise<WebhookEvent>;
  event(id: string): Promise<WebhookEvent | null>;
  /** A subscription's deliveries, newest first, with their event's type. */
  deliveries(subscriptionId: string, limit: number): Promise<(WebhookDelivery & { type: WebhookEventType })[]>;
  delivery(key: DeliveryKey): Promise<WebhookDelivery | null>;
  /**
   * Deliveries that may be sent now: pending, due, not claimed (or the claim ran out), and the head of their
   * (subscription, store) queue, i.e. no earlier delivery of that store to that subscription is undelivered.
   */
  due(now: Date, limit: number): Promise<DeliveryKey[]>;
  /** Conditional update: claims a due, unclaimed pending delivery for `owner` until `until`; null when it is not. */
  claim(key: DeliveryKey, owner: string, now: Date, until: Date): Promise<ClaimedDelivery | null>;
  /** Writes an attempt's outcome and releases the claim, only if `owner` still holds it; false otherwise. */
  finish(key: DeliveryKey, owner: string, outcome: DeliveryOutcome): Promise<boolean>;
  /** Sets failingSince unless it is set already. */
  markFailing(subscriptionId: string, at: Date): Promise<void>;
  clearFailing(subscriptionId: string): Promise<void>;
  /** A failed (or pending) delivery made due now with a fresh retry period; null when there is none. */
  retry(key: DeliveryKey, now: Date): Promise<WebhookDelivery | null>;
  /** Undelivered deliveries by status (metrics). */
  backlog(): Promise<{ pending: number; failed: number }>;
  /**
   * Retention, one batch (src/webhooks/retention.ts): removes up to `batch` deliveries that are delivered or failed
   * and whose last attempt was before `before`, then up to `batch` events created before `before` that have no
   * delivery left. Pending deliveries, and the events they belong to, are never removed. Each statement reads only
   * rows it removes (an index range on status and lastAttemptAt, one on createdAt).
   */
  purgeFinished(before: Date, batch: number): Promise<{ deliveries: number; events: number }>;
}
