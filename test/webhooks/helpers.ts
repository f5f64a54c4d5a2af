// Shared by the webhook tests: delivery workers on a fresh database of each backend, events appended through the
// outbox's own storage function, and a Prisma client of the test's own for transactions with a binding update.
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { OffsetClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { PrismaClient as PostgresClient } from '../../src/storage/generated/postgresql/client.js';
import { PrismaClient as SqliteClient } from '../../src/storage/generated/sqlite/client.js';
import type { Db } from '../../src/storage/prisma/shared.js';
import type { Storage } from '../../src/storage/types.js';
import type { NewWebhookEvent, WebhookEventType } from '../../src/storage/webhooks.js';
import { DEFAULT_WEBHOOK_CONFIG, type WebhookConfig } from '../../src/webhooks/config.js';
import { DeliveryWorker } from '../../src/webhooks/worker.js';
import { Webhooks } from '../../src/webhooks/webhooks.js';
import type { Backend } from '../helpers/db.js';

/** Short durations: retries after 20-80 ms, claims that run out in 6 s. */
export const FAST_WEBHOOKS: WebhookConfig = {
  ...DEFAULT_WEBHOOK_CONFIG,
  allowPrivateUrls: true,
  // Generous for a loaded test machine: a local connect that times out would look like a receiver failure.
  connectTimeoutMs: 4_000,
  totalTimeoutMs: 5_000,
  retryBaseDelayMs: 40,
  retryMaxDelayMs: 80,
  claimMs: 6_000,
  pollIntervalMs: 20,
};

export function quietLogger() {
  const sink = new PassThrough();
  sink.resume();
  if (process.env.WEBHOOK_TEST_LOGS) return createLogger('debug', process.stderr);
  return createLogger('warn', sink);
}

export function worker(storage: Storage, clock: OffsetClock, config: Partial<WebhookConfig> = {}, t?: ExecutionContext): DeliveryWorker {
  const w = new DeliveryWorker({ storage, clock, config: { ...FAST_WEBHOOKS, ...config }, logger: quietLogger() });
  t?.teardown(() => w.stop());
  return w;
}

export function webhooks(storage: Storage, clock: OffsetClock, allowPrivateUrls = true): Webhooks {
  return new Webhooks({ storage, clock, config: { allowPrivateUrls } });
}

export function storeEvent(storeId: string, type: WebhookEventType, clock: OffsetClock, extra: Partial<NewWebhookEvent> = {}): NewWebhookEvent {
  return {
    id: randomUUID(),
    type,
    storeId,
    accountId: 'acct-1',
    data: { store: { id: storeId, state: type === 'store.revoked' ? 'revoked' : 'active', storeBaseUrl: 'https://shop.example/' }, account: { id: 'acct-1', externalId: 'crm-1' } },
    createdAt: clock.now(),
    ...extra,
  };
}

/** A Prisma client on the test database, for what Storage does not expose (transactions with a binding update). */
export async function prismaClient(backend: Backend, url: string, t: ExecutionContext): Promise<Db> {
  const db =
    backend === 'sqlite'
      ? new SqliteClient({ adapter: new PrismaBetterSQLite3({ url: url.replace(/^file:/, ''), timeout: 5_000 }) })
      : (new PostgresClient({ adapter: new PrismaPg({ connectionString: url, max: 2 }) }) as unknown as Db);
  t.teardown(() => db.$disconnect());
  return db;
}

/** Event ids per store, in the order they were delivered (verified, answered 2xx). */
export function deliveredByStore(delivered: { body: { id: string; data: { store: { id: string } } } }[]): Map<string, string[]> {
  // Keys sorted: ava compares Maps in insertion order.
  delivered = [...delivered].sort((a, b) => (a.body.data.store.id < b.body.data.store.id ? -1 : a.body.data.store.id > b.body.data.store.id ? 1 : 0));
  const out = new Map<string, string[]>();
  for (const d of delivered) {
    const list = out.get(d.body.data.store.id) ?? [];
    list.push(d.body.id);
    out.set(d.body.data.store.id, list);
  }
  return out;
}
