// Storage over a Prisma client, one implementation for SQLite and PostgreSQL, composed from one repository per
// file. Every write two instances could race on is a single statement: conditional updates
// (`UPDATE ... WHERE id AND version`), native upserts, atomic increments. Time comes from the Clock.
import { systemClock, type Clock } from '../../clock.js';
import type { Sealer } from '../../secrets/sealer.js';
import { toStorageError } from '../errors.js';
import type { Storage } from '../types.js';
import { accountRepository } from './accounts.js';
import { activationTokenRepository, tombstoneRepository } from './activation.js';
import { apiKeyRepository } from './api-keys.js';
import { bindingEventRepository } from './binding-events.js';
import { bindingRepository } from './bindings.js';
import { callbackRefusalRepository } from './callback-refusals.js';
import { sessionRepository } from './sessions.js';
import { createCredentialRepository, createIdentityRepository, createPasswordResetRepository } from './identities.js';
import { createOperatorAccountRepository, createOperatorKeyRepository } from './operators.js';
import { createWebhookRepository } from './webhooks.js';
import { createProbeRepository } from './probes.js';
import { prismaSql, type HotSql } from './hot-sql.js';
import { guarded, type Db } from './shared.js';
import { throttleRepository } from './throttles.js';

export type { Db } from './shared.js';

/** `sql` runs the hot paths' raw statements (src/storage/prisma/hot-sql.ts); Prisma's raw queries by default. */
export function createPrismaStorage(db: Db, provider: Storage['provider'], sealer: Sealer, clock: Clock = systemClock, sql: HotSql = prismaSql(db)): Storage {
  const tombstones = tombstoneRepository(db, sql);
  return {
    provider,
    bindings: guarded(bindingRepository(db, sealer, clock, tombstones, sql)),
    bindingEvents: guarded(bindingEventRepository(db, sql)),
    activationTokens: guarded(activationTokenRepository(db, sealer, sql)),
    tombstones: guarded(tombstones),
    accounts: guarded(accountRepository(db, clock)),
    apiKeys: guarded(apiKeyRepository(db, clock, sql)),
    sessions: guarded(sessionRepository(db, clock)),
    throttles: guarded(throttleRepository(db, sql)),
    callbackRefusals: guarded(callbackRefusalRepository(db)),
    identities: guarded(createIdentityRepository(db)),
    passwordResets: guarded(createPasswordResetRepository(db)),
    credentials: guarded(createCredentialRepository(db)),
    operatorKeys: guarded(createOperatorKeyRepository(db)),
    operatorAccounts: guarded(createOperatorAccountRepository(db)),
    webhooks: guarded(createWebhookRepository(db, sealer, provider)),
    probes: guarded(createProbeRepository(db, provider, sql)),
    async ping() {
      try {
        await db.$queryRawUnsafe('SELECT 1');
      } catch (error) {
        throw toStorageError(error);
      }
    },
    async close() {
      await db.$disconnect();
    },
  };
}
