// What the operator surface is given (built in src/app.ts): keys, accounts, webhooks and the delivery worker.
import type { Accounts } from '../accounts/accounts.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/types.js';
import type { WebhookConfig } from '../webhooks/config.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { Webhooks } from '../webhooks/webhooks.js';
import { DeliveryWorker } from '../webhooks/worker.js';
import { OperatorAccounts } from './accounts.js';
import { OperatorKeyCache, OperatorKeys } from './keys.js';

export interface OperatorServices {
  keys: OperatorKeys;
  keyCache: OperatorKeyCache;
  accounts: OperatorAccounts;
  webhooks: Webhooks;
  /** Started by startServer (not by the CLI). */
  worker: DeliveryWorker;
  /** GET /metrics (webhook metrics for now; the rest of the service's join them here). */
  metrics: Metrics;
}

export function createOperatorServices(o: {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  accounts: Accounts;
  webhookConfig: WebhookConfig;
  cacheTtlMs: number;
}): OperatorServices {
  const keys = new OperatorKeys({ storage: o.storage, clock: o.clock });
  const metrics = createMetrics({ storage: o.storage });
  return {
    metrics,
    keys,
    keyCache: new OperatorKeyCache(keys, o.clock, o.cacheTtlMs),
    accounts: new OperatorAccounts({ storage: o.storage, accounts: o.accounts }),
    webhooks: new Webhooks({ storage: o.storage, clock: o.clock, config: o.webhookConfig }),
    worker: new DeliveryWorker({ storage: o.storage, clock: o.clock, config: o.webhookConfig, logger: o.logger, onAttempt: metrics.webhookAttempt }),
  };
}
