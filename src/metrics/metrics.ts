// Prometheus metrics (prom-client), one registry per running service (tests run several in one process). Labels
// stay bounded: outcomes and statuses from fixed lists, never a store URL, store id, account id or webhook URL.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Storage } from '../storage/types.js';
import type { AttemptOutcome } from '../webhooks/worker.js';

export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = ['delivered', 'retry', 'failed', 'lost_claim'];

export interface Metrics {
  registry: Registry;
  webhookAttempt(outcome: AttemptOutcome): void;
}

export function createMetrics(o: { storage: Storage }): Metrics {
  const registry = new Registry();
  const deliveries = new Counter({
    name: 'connector_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered (2xx), retry (failed, will be retried), failed (retry period over), lost_claim (another instance had it).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of ATTEMPT_OUTCOMES) deliveries.inc({ outcome }, 0); // every series exists from the start
  new Gauge({
    name: 'connector_webhook_backlog',
    help: 'Webhook deliveries not delivered yet, by status: pending (due or waiting for a retry or for an earlier event of its store), failed (waiting for POST .../retry). Shared by all instances (read from the database).',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const backlog = await o.storage.webhooks.backlog();
      this.set({ status: 'pending' }, backlog.pending);
      this.set({ status: 'failed' }, backlog.failed);
    },
  });
  return {
    registry,
    webhookAttempt: (outcome) => deliveries.inc({ outcome }),
  };
}
