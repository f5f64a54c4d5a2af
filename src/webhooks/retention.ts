// Webhook history retention: the outbox and its deliveries would otherwise grow by one row per event and subscriber
// forever. Run by every instance's housekeeping (every 5 minutes, src/app.ts); instances racing on it delete disjoint
// rows or nothing (each DELETE is one statement), so no coordination is needed.
//
// What goes: deliveries delivered or failed whose last attempt is older than WEBHOOK_RETENTION_DAYS, then events
// with no delivery left and older than that. Pending deliveries stay however old (they are still to be sent). A
// failed delivery that goes no longer holds back the later deliveries of its store to that subscription (it was
// waiting for POST .../retry for the whole retention period). A store whose every event went starts its sequence
// at 1 again; the order of its deliveries is unaffected (nothing earlier is left).
import type { Clock } from '../clock.js';
import type { Storage } from '../storage/types.js';
import type { WebhookConfig } from './config.js';

/** Rows per DELETE: short statements, so SQLite's write lock is never held long. */
export const RETENTION_BATCH = 1_000;
/** Batches per run: a backlog older than the period (a first run after an upgrade) is worked off over several runs. */
export const RETENTION_MAX_BATCHES = 50;

export async function purgeWebhookHistory(
  o: { storage: Storage; clock: Clock; config: Pick<WebhookConfig, 'retentionMs'> },
  limits: { batch?: number; maxBatches?: number } = {},
): Promise<{ deliveries: number; events: number }> {
  const total = { deliveries: 0, events: 0 };
  if (o.config.retentionMs === 0) return total;
  const batch = limits.batch ?? RETENTION_BATCH;
  const maxBatches = limits.maxBatches ?? RETENTION_MAX_BATCHES;
  const before = new Date(o.clock.now().getTime() - o.config.retentionMs);
  for (let i = 0; i < maxBatches; i++) {
    const removed = await o.storage.webhooks.purgeFinished(before, batch);
    total.deliveries += removed.deliveries;
    total.events += removed.events;
    if (removed.deliveries < batch && removed.events < batch) break;
  }
  return total;
}
