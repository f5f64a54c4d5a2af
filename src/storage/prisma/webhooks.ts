// Lifecycle webhooks on Prisma (types: ../webhooks.ts).
//
// Emitting an event: `eventStatements(db, event)` are the two SQL statements that write an event and its
// deliveries. Run them in the SAME transaction as the state change that caused the event, after the conditional
// update that made the change (so a transition that lost its race writes no event, and the per-store sequence is
// computed while the binding's row is locked by that update):
//   batch:        await db.$transaction([db.binding.update({ where: { id, version }, data }), ...eventStatements(db, e)])
//   interactive:  await db.$transaction(async (tx) => { ...conditional update on tx...; await appendEvent(tx, e); })
// A batch whose update matches no row fails with P2025 and writes nothing at all.
import { randomUUID } from 'node:crypto';
import type { Sealer } from '../../secrets/sealer.js';
import { updated, type Db } from './shared.js';
import { StorageError } from '../errors.js';
import type {
  WebhookDelivery as DeliveryRow,
  WebhookEvent as EventRow,
  WebhookSubscription as SubscriptionRow,
} from '../generated/sqlite/client.js';
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES, type DeliveryKey, type NewWebhookEvent, type WebhookDelivery, type WebhookEvent, type WebhookEventType, type WebhookRepository, type WebhookSubscription } from '../webhooks.js';

/** The part of a Prisma client (or transaction client) the outbox statements need. */
export type RawExecutor = Pick<Db, '$executeRaw'>;

/** Stored form of an event filter: ",a,b," so that SQL can test one type with LIKE; "" means every type. */
export function encodeEventFilter(events: readonly WebhookEventType[] | null): string {
  return events && events.length ? `,${[...new Set(events)].join(',')},` : '';
}

function decodeEventFilter(stored: string): WebhookEventType[] | null {
  if (stored === '') return null;
  return stored.split(',').filter(Boolean).map((t) => oneOf(WEBHOOK_EVENT_TYPES, t, 'event type'));
}

/**
 * The two statements that emit an event: the outbox row (its sequence the store's next) and one delivery per
 * subscription whose filter takes the event's type. Lazy Prisma promises: nothing runs until they are awaited or
 * handed to $transaction([...]). See the top of this file for how a state transition includes them.
 */
export function eventStatements(db: RawExecutor, event: NewWebhookEvent & { id: string }): ReturnType<Db['$executeRaw']>[] {
  if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event.type)) throw new StorageError(`unknown webhook event type "${event.type}"`);
  const payload = JSON.stringify(event.data ?? null);
  const pattern = `%,${event.type},%`; // types hold no LIKE wildcards (checked above)
  return [
    db.$executeRaw`
      INSERT INTO "WebhookEvent" ("id", "type", "storeId", "accountId", "payload", "sequence", "createdAt")
      SELECT ${event.id}, ${event.type}, ${event.storeId}, ${event.accountId}, ${payload}, COALESCE(MAX("sequence"), 0) + 1, ${event.createdAt}
      FROM "WebhookEvent" WHERE "storeId" = ${event.storeId}`,
    db.$executeRaw`
      INSERT INTO "WebhookDelivery" ("eventId", "subscriptionId", "storeId", "sequence", "status", "attempts", "nextAttemptAt", "createdAt")
      SELECT e."id", s."id", e."storeId", e."sequence", 'pending', 0, e."createdAt", e."createdAt"
      FROM "WebhookEvent" e CROSS JOIN "WebhookSubscription" s
      WHERE e."id" = ${event.id} AND (s."events" = '' OR s."events" LIKE ${pattern})`,
  ];
}

/** eventStatements, run one after the other on an interactive transaction's client. */
export async function appendEvent(tx: RawExecutor, event: NewWebhookEvent): Promise<string> {
  const id = event.id ?? randomUUID();
  for (const statement of eventStatements(tx, { ...event, id })) await statement;
  return id;
}

export function createWebhookRepository(db: Db, sealer: Sealer, provider: 'sqlite' | 'postgresql' = 'sqlite'): WebhookRepository {
  const toSubscription = (row: SubscriptionRow): WebhookSubscription => ({
    id: row.id,
    url: row.url,
    events: decodeEventFilter(row.events),
    secret: sealer.open(row.secretSealed),
    createdAt: row.createdAt,
    failingSince: row.failingSince,
  });
  const pk = (key: DeliveryKey) => ({ eventId_subscriptionId: { eventId: key.eventId, subscriptionId: key.subscriptionId } });

  return {
    async createSubscription(s) {
      const row = await db.webhookSubscription.create({
        data: { id: s.id, url: s.url, events: encodeEventFilter(s.events), secretSealed: sealer.seal(s.secret) },
      });
      return toSubscription(row);
    },
    async subscriptions() {
      return (await db.webhookSubscription.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).map(toSubscription);
    },
    async subscription(id) {
      const row = await db.webhookSubscription.findUnique({ where: { id } });
      return row && toSubscription(row);
    },
    async deleteSubscription(id) {
      return (await db.webhookSubscription.deleteMany({ where: { id } })).count > 0;
    },
    async appendEvent(event) {
      const id = event.id ?? randomUUID();
      // A batch: both statements run in one transaction, sent together (no lock held across our own awaits).
      await db.$transaction(eventStatements(db, { ...event, id }));
      const row = await db.webhookEvent.findUnique({ where: { id } });
      if (!row) throw new StorageError(`webhook event ${id} vanished right after it was written`);
      return toEvent(row);
    },
    async event(id) {
      const row = await db.webhookEvent.findUnique({ where: { id } });
      return row && toEvent(row);
    },
    async deliveries(subscriptionId, limit) {
      const rows = await db.webhookDelivery.findMany({
        where: { subscriptionId },
        orderBy: [{ createdAt: 'desc' }, { storeId: 'asc' }, { sequence: 'desc' }],
        take: limit,
        include: { event: { select: { type: true } } },
      });
      return rows.map((row) => ({ ...toDelivery(row), type: oneOf(WEBHOOK_EVENT_TYPES, row.event.type, 'event type') }));
    },
    async delivery(key) {
      const row = await db.webhookDelivery.findUnique({ where: pk(key) });
      return row && toDelivery(row);
    },
    async due(now, limit) {
      // The head test is a correlated NOT EXISTS, which Prisma's query API cannot express.
      const rows = await db.$queryRaw<{ eventId: string; subscriptionId: string }[]>`
        SELECT d."eventId", d."subscriptionId" FROM "WebhookDelivery" d
        WHERE d."status" = 'pending' AND d."nextAttemptAt" <= ${now}
          AND (d."claimUntil" IS NULL OR d."claimUntil" <= ${now})
          AND NOT EXISTS (
            SELECT 1 FROM "WebhookDelivery" e
            WHERE e."subscriptionId" = d."subscriptionId" AND e."storeId" = d."storeId"
              AND e."status" IN ('pending', 'failed') AND e."sequence" < d."sequence")
        ORDER BY d."nextAttemptAt", d."storeId", d."sequence"
        LIMIT ${limit}`;
      return rows.map((r) => ({ eventId: r.eventId, subscriptionId: r.subscriptionId }));
    },
    async claim(key, owner, now, until) {
      // One statement: of two instances claiming the same delivery, exactly one matches the row. No `include`:
      // Prisma would wrap the update and its reads in a transaction, and on SQLite a transaction holds the write
      // lock across awaits (see updated() in prisma-storage.ts).
      const row = await updated(
        db.webhookDelivery.update({
          where: { ...pk(key), status: 'pending', nextAttemptAt: { lte: now }, OR: [{ claimUntil: null }, { claimUntil: { lte: now } }] },
          data: { claimedBy: owner, claimUntil: until, attempts: { increment: 1 } },
        }),
      );
      if (!row) return null;
      const [event, subscription] = await Promise.all([
        db.webhookEvent.findUnique({ where: { id: row.eventId } }),
        db.webhookSubscription.findUnique({ where: { id: row.subscriptionId } }),
      ]);
      if (!event || !subscription) return null; // deleted meanwhile (the delivery row went with it)
      return { delivery: toDelivery(row), event: toEvent(event), subscription: toSubscription(subscription) };
    },
    async finish(key, owner, outcome) {
      const row = await updated(
        db.webhookDelivery.update({ where: { ...pk(key), claimedBy: owner }, data: { ...outcome, claimedBy: null, claimUntil: null } }),
      );
      return row !== null;
    },
    async markFailing(subscriptionId, at) {
      await updated(db.webhookSubscription.update({ where: { id: subscriptionId, failingSince: null }, data: { failingSince: at } }));
    },
    async clearFailing(subscriptionId) {
      await updated(db.webhookSubscription.update({ where: { id: subscriptionId, failingSince: { not: null } }, data: { failingSince: null } }));
    },
    async retry(key, now) {
      const row = await updated(
        db.webhookDelivery.update({
          where: { ...pk(key), status: { in: ['failed', 'pending'] } },
          data: { status: 'pending', nextAttemptAt: now, firstAttemptAt: null },
        }),
      );
      return row && toDelivery(row);
    },
    async backlog() {
      const groups = await db.webhookDelivery.groupBy({ by: ['status'], where: { status: { in: ['pending', 'failed'] } }, _count: { _all: true } });
      const count = (status: string) => groups.find((g) => g.status === status)?._count._all ?? 0;
      return { pending: count('pending'), failed: count('failed') };
    },
    async purgeFinished(before, batch) {
      // The outer conditions repeat the inner ones: on PostgreSQL a row retried (made pending) between the
      // subquery's snapshot and the delete is re-checked against them and kept. On PostgreSQL the batch is picked
      // by its rows' physical addresses (a Tid Scan reads just those rows): with the key IN (...) form the planner
      // chose a hash join over every old finished row, once per batch (100,000 old rows: 47 ms -> 1.2 ms a batch;
      // bench/scale.ts prints the plan: with statistics saying there are few old rows the planner reads them through the
      // index instead); a row retried meanwhile is followed to its new version, re-checked and kept.
      const deliveries = provider === 'postgresql'
        ? await db.$executeRaw`
          DELETE FROM "WebhookDelivery"
          WHERE "ctid" = ANY (ARRAY (
              SELECT "ctid" FROM "WebhookDelivery"
              WHERE "status" IN ('delivered', 'failed') AND "lastAttemptAt" < ${before}
              LIMIT ${batch}))
            AND "status" IN ('delivered', 'failed') AND "lastAttemptAt" < ${before}`
        : await db.$executeRaw`
        DELETE FROM "WebhookDelivery"
        WHERE "status" IN ('delivered', 'failed') AND "lastAttemptAt" < ${before}
          AND ("eventId", "subscriptionId") IN (
            SELECT "eventId", "subscriptionId" FROM "WebhookDelivery"
            WHERE "status" IN ('delivered', 'failed') AND "lastAttemptAt" < ${before}
            LIMIT ${batch})`;
      // Deliveries are only ever written with their event (eventStatements), so an event without one stays so.
      const events = await db.$executeRaw`
        DELETE FROM "WebhookEvent"
        WHERE "id" IN (
          SELECT e."id" FROM "WebhookEvent" e
          WHERE e."createdAt" < ${before}
            AND NOT EXISTS (SELECT 1 FROM "WebhookDelivery" d WHERE d."eventId" = e."id")
          LIMIT ${batch})`;
      return { deliveries, events };
    },
  };
}

function toEvent(row: EventRow): WebhookEvent {
  return {
    id: row.id,
    type: oneOf(WEBHOOK_EVENT_TYPES, row.type, 'event type'),
    storeId: row.storeId,
    accountId: row.accountId,
    payload: row.payload,
    sequence: row.sequence,
    createdAt: row.createdAt,
  };
}

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    eventId: row.eventId,
    subscriptionId: row.subscriptionId,
    storeId: row.storeId,
    sequence: row.sequence,
    status: oneOf(DELIVERY_STATUSES, row.status, 'delivery status'),
    attempts: row.attempts,
    nextAttemptAt: row.nextAttemptAt,
    firstAttemptAt: row.firstAttemptAt,
    lastAttemptAt: row.lastAttemptAt,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    deliveredAt: row.deliveredAt,
    claimedBy: row.claimedBy,
    claimUntil: row.claimUntil,
    createdAt: row.createdAt,
  };
}

function oneOf<T extends string>(allowed: readonly T[], value: string, what: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new StorageError(`unknown ${what} "${value}" in the database`);
}
