// Connector instances in their own processes (scripts/instance.mjs), sharing one database, and direct access to that
// database from the test process, as an operator's script would have.
import type { ExecutionContext } from 'ava';
import { Accounts } from '../../src/accounts/accounts.js';
import { systemClock } from '../../src/clock.js';
import { DEFAULT_DURATIONS, DEFAULT_LIMITS } from '../../src/config.js';
import { parseSecretsKey, Sealer } from '../../src/secrets/sealer.js';
import { openStorage } from '../../src/storage/db.js';
import type { Storage } from '../../src/storage/types.js';
import { spawnServer, type Child } from '../../scripts/spawn-instance.js';
import { TEST_DURATIONS, TEST_LIMITS, TEST_WEBHOOKS } from './connector.js';
import type { WebhookConfig } from '../../src/webhooks/config.js'; // crm
import type { ProbeConfig } from '../../src/probes/prober.js';


export interface InstanceOptions {
  databaseUrl: string;
  secretsKey: string;
  durations?: Partial<typeof DEFAULT_DURATIONS>;
  limits?: Partial<typeof DEFAULT_LIMITS>;
  /** crm: webhook delivery settings, over TEST_WEBHOOKS. */
  webhooks?: Partial<WebhookConfig>;
  /** OPEN_SIGNUP_ACTIVATION: the shared URLs answer too (default false, as in the product; issue 13). */
  openSignup?: boolean;
  /** Revocation probe settings (interval, rate, tick, claim), over the configuration's. */
  probes?: Partial<ProbeConfig>;
}

export async function spawnInstance(t: ExecutionContext, o: InstanceOptions): Promise<Child> {
  const child = await spawnServer('scripts/instance.mjs', {
    DATABASE_URL: o.databaseUrl,
    SECRETS_KEY: o.secretsKey,
    ALLOW_PRIVATE_STORE_URLS: 'true',
    OPEN_SIGNUP_ACTIVATION: String(o.openSignup ?? false),
    LOG_LEVEL: 'warn',
    INSTANCE_SKIP_MIGRATE: 'true', // freshDatabase() hands out migrated databases
    INSTANCE_DURATIONS: JSON.stringify({ ...TEST_DURATIONS, ...o.durations }),
    INSTANCE_LIMITS: JSON.stringify({ ...TEST_LIMITS, ...o.limits }),
    INSTANCE_WEBHOOKS: JSON.stringify({ ...TEST_WEBHOOKS, ...o.webhooks }), // crm
    ...(o.probes ? { INSTANCE_PROBES: JSON.stringify(o.probes) } : {}),
  });
  t.teardown(() => child.stop());
  return child;
}

/** The shared database, opened from the test process with the instances' key. */
export async function sharedStorage(t: ExecutionContext, o: InstanceOptions): Promise<{ storage: Storage; accounts: Accounts }> {
  const storage = await openStorage({ databaseUrl: o.databaseUrl, sealer: new Sealer(parseSecretsKey(o.secretsKey)), poolSize: 2 });
  t.teardown(() => storage.close());
  const accounts = new Accounts({ storage, clock: systemClock, durations: DEFAULT_DURATIONS, limits: DEFAULT_LIMITS });
  return { storage, accounts };
}
