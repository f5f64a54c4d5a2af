// Storage over a Prisma client, one implementation for SQLite and PostgreSQL. Secrets are sealed on the way in and
// opened on the way out, here and nowhere else. Every write two instances could race on is a single statement:
// conditional updates (`UPDATE ... WHERE id AND version`), native upserts, atomic increments.
import type { Sealer } from '../secrets/sealer.js';
import type { Binding as BindingRow, PrismaClient as SqliteClient } from './generated/sqlite/client.js';
import { isNotFound, isUniqueViolation, StorageError, toStorageError } from './errors.js';
import { createOperatorAccountRepository, createOperatorKeyRepository, toAccountRow } from './operators.js'; // crm
import { createWebhookRepository } from './webhooks.js'; // crm
import {
  BINDING_STATES,
  type Account,
  type AccountRepository,
  type ApiKey,
  type ApiKeyRepository,
  type Binding,
  type BindingPatch,
  type BindingRepository,
  type BindingState,
  type BindingStep,
  type Fix,
  type NewBinding,
  type Session,
  type SessionRepository,
  type Storage,
  type ThrottleRepository,
} from './types.js';

/**
 * The model API both generated clients share. The PostgreSQL client is typed as the SQLite one: their model
 * delegates are generated from the same models.prisma and differ only in provider-internal types this file never
 * touches (db.ts does the cast).
 */
export type Db = SqliteClient;

type BindingColumns = Partial<Omit<BindingRow, 'id' | 'consumerKey' | 'version' | 'createdAt' | 'updatedAt'>>;

// Compile-time completeness: `true` only when the list names every member of the union.
type Complete<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;

const BINDING_STEPS = ['request_token', 'access_token'] as const satisfies readonly BindingStep[];
const FIXES = ['activate_again', 'reauthorize', 'recreate_integration', 'check_store', 'contact_support'] as const satisfies readonly Fix[];
// Binding fields stored as they are; the secret ones go through toColumns' sealing.
const PLAIN_PATCH_FIELDS = [
  'storeBaseUrl',
  'state',
  'accountId',
  'callbackAt',
  'activatedAt',
  'revokedAt',
  'step',
  'stepUntil',
  'stepAttempts',
  'nextAttemptAt',
  'lastError',
  'lastErrorAt',
  'fix',
] as const satisfies readonly (keyof BindingPatch & keyof BindingColumns)[];
type SealedPatchField = 'consumerSecret' | 'verifier' | 'requestToken' | 'accessToken';
const complete: [
  Complete<BindingStep, (typeof BINDING_STEPS)[number]>,
  Complete<Fix, (typeof FIXES)[number]>,
  Complete<keyof BindingPatch, (typeof PLAIN_PATCH_FIELDS)[number] | SealedPatchField>,
] = [true, true, true];
void complete;

export function createPrismaStorage(db: Db, provider: Storage['provider'], sealer: Sealer): Storage {
  const seal = (v: string) => sealer.seal(v);
  const sealOrNull = (v: string | null) => (v === null ? null : sealer.seal(v));
  const openOrNull = (v: string | null) => (v === null ? null : sealer.open(v));

  function toBinding(row: BindingRow): Binding {
    let requestToken: Binding['requestToken'] = null;
    if (row.requestTokenSealed !== null) {
      if (row.requestTokenSecretSealed === null || row.requestVerifierSealed === null || row.requestTokenAt === null) {
        throw new StorageError(`binding ${row.id}: request token stored without its secret, verifier or time`);
      }
      requestToken = {
        token: sealer.open(row.requestTokenSealed),
        secret: sealer.open(row.requestTokenSecretSealed),
        verifier: sealer.open(row.requestVerifierSealed),
        at: row.requestTokenAt,
      };
    }
    let accessToken: Binding['accessToken'] = null;
    if (row.accessTokenSealed !== null) {
      if (row.accessTokenSecretSealed === null) throw new StorageError(`binding ${row.id}: access token stored without its secret`);
      accessToken = {
        token: sealer.open(row.accessTokenSealed),
        secret: sealer.open(row.accessTokenSecretSealed),
        verifier: openOrNull(row.accessVerifierSealed),
      };
    }
    return {
      id: row.id,
      consumerKey: row.consumerKey,
      storeBaseUrl: row.storeBaseUrl,
      state: oneOf(BINDING_STATES, row.state, 'state', row.id) as BindingState,
      accountId: row.accountId,
      consumerSecret: sealer.open(row.consumerSecretSealed),
      verifier: openOrNull(row.verifierSealed),
      callbackAt: row.callbackAt,
      requestToken,
      accessToken,
      activatedAt: row.activatedAt,
      revokedAt: row.revokedAt,
      step: row.step === null ? null : oneOf(BINDING_STEPS, row.step, 'step', row.id),
      stepUntil: row.stepUntil,
      stepAttempts: row.stepAttempts,
      nextAttemptAt: row.nextAttemptAt,
      lastError: row.lastError,
      lastErrorAt: row.lastErrorAt,
      fix: row.fix === null ? null : oneOf(FIXES, row.fix, 'fix', row.id),
      version: row.version,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  /** The columns a patch writes; fields it leaves undefined stay as they are. */
  function toColumns(patch: BindingPatch): BindingColumns {
    const { consumerSecret, verifier, requestToken, accessToken } = patch;
    const columns: BindingColumns = {};
    // Copied field by field: a caller that spreads a whole Binding into a patch must not write id, version...
    for (const field of PLAIN_PATCH_FIELDS) {
      if (patch[field] !== undefined) (columns as Record<string, unknown>)[field] = patch[field];
    }
    if (consumerSecret !== undefined) columns.consumerSecretSealed = seal(consumerSecret);
    if (verifier !== undefined) columns.verifierSealed = sealOrNull(verifier);
    if (requestToken !== undefined) {
      columns.requestTokenSealed = requestToken && seal(requestToken.token);
      columns.requestTokenSecretSealed = requestToken && seal(requestToken.secret);
      columns.requestVerifierSealed = requestToken && seal(requestToken.verifier);
      columns.requestTokenAt = requestToken && requestToken.at;
    }
    if (accessToken !== undefined) {
      columns.accessTokenSealed = accessToken && seal(accessToken.token);
      columns.accessTokenSecretSealed = accessToken && seal(accessToken.secret);
      columns.accessVerifierSealed = accessToken && sealOrNull(accessToken.verifier);
    }
    return columns;
  }

  const byCreation = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];

  const bindings: BindingRepository = {
    async create(binding: NewBinding) {
      // Raw SQL on purpose: this is the callback's only query, and Prisma's create costs about 2.5 ms of CPU on
      // SQLite against 0.5 ms for the statement itself (bench/activation-storm.ts). ON CONFLICT DO NOTHING works on
      // both providers and answers a repeated consumer key with 0 rows instead of an error.
      const now = new Date();
      const row: BindingRow = {
        id: binding.id,
        consumerKey: binding.consumerKey,
        storeBaseUrl: binding.storeBaseUrl,
        state: binding.state,
        accountId: null,
        consumerSecretSealed: seal(binding.consumerSecret),
        verifierSealed: sealOrNull(binding.verifier),
        callbackAt: binding.callbackAt,
        requestTokenSealed: null,
        requestTokenSecretSealed: null,
        requestVerifierSealed: null,
        requestTokenAt: null,
        accessTokenSealed: null,
        accessTokenSecretSealed: null,
        accessVerifierSealed: null,
        activatedAt: null,
        revokedAt: null,
        step: null,
        stepUntil: null,
        stepAttempts: 0,
        nextAttemptAt: binding.nextAttemptAt ?? null,
        lastError: null,
        lastErrorAt: null,
        fix: null,
        version: 0,
        createdAt: now,
        updatedAt: now,
      };
      const inserted = await db.$executeRaw`
        INSERT INTO "Binding" ("id", "consumerKey", "storeBaseUrl", "state", "consumerSecretSealed", "verifierSealed",
          "callbackAt", "nextAttemptAt", "stepAttempts", "version", "createdAt", "updatedAt")
        VALUES (${row.id}, ${row.consumerKey}, ${row.storeBaseUrl}, ${row.state}, ${row.consumerSecretSealed},
          ${row.verifierSealed}, ${row.callbackAt}, ${row.nextAttemptAt}, 0, 0, ${now}, ${now})
        ON CONFLICT ("consumerKey") DO NOTHING`;
      return inserted === 0 ? null : toBinding(row);
    },
    async byId(id) {
      const row = await db.binding.findUnique({ where: { id } });
      return row && toBinding(row);
    },
    async byConsumerKey(consumerKey) {
      const row = await db.binding.findUnique({ where: { consumerKey } });
      return row && toBinding(row);
    },
    async listByAccount(accountId) {
      return (await db.binding.findMany({ where: { accountId }, orderBy: byCreation })).map(toBinding);
    },
    async list() {
      return (await db.binding.findMany({ orderBy: byCreation })).map(toBinding);
    },
    async update(id, version, patch) {
      // One statement (UPDATE ... WHERE id = ? AND version = ? RETURNING ...) on both backends: of two writers
      // holding the same version, exactly one matches the row.
      const row = await updated(db.binding.update({ where: { id, version }, data: { ...toColumns(patch), version: { increment: 1 } } }));
      return row && toBinding(row);
    },
    async delete(id, accountId) {
      const { count } = await db.binding.deleteMany({ where: accountId === undefined ? { id } : { id, accountId } });
      return count > 0;
    },
    async due(now, limit) {
      const rows = await db.binding.findMany({
        // As types.ts says: no state filter (nextAttemptAt is set only while there is request-token work).
        where: { nextAttemptAt: { lte: now }, OR: [{ stepUntil: null }, { stepUntil: { lte: now } }] },
        orderBy: [{ nextAttemptAt: 'asc' }, { id: 'asc' }],
        take: limit,
      });
      return rows.map(toBinding);
    },
  };

  const accounts: AccountRepository = {
    async create(account) {
      try {
        return toAccount(await db.account.create({ data: { ...account, email: account.email.toLowerCase() } }));
      } catch (error) {
        if (isUniqueViolation(error, 'Account', 'email')) return null;
        throw error;
      }
    },
    async byId(id) {
      const row = await db.account.findUnique({ where: { id } });
      return row && toAccount(row);
    },
    async byEmail(email) {
      const row = await db.account.findUnique({ where: { email: email.toLowerCase() } });
      return row && toAccount(row);
    },
  };

  const apiKeys: ApiKeyRepository = {
    async create(key) {
      return toApiKey(await db.apiKey.create({ data: key }));
    },
    async activeByHash(hash) {
      const row = await db.apiKey.findUnique({ where: { hash } });
      return row && row.revokedAt === null ? toApiKey(row) : null;
    },
    async listByAccount(accountId) {
      return (await db.apiKey.findMany({ where: { accountId }, orderBy: byCreation })).map(toApiKey);
    },
    async revoke(id, accountId, at) {
      return (await updated(db.apiKey.update({ where: { id, accountId, revokedAt: null }, data: { revokedAt: at } }))) !== null;
    },
    async touch(id, at) {
      await updated(db.apiKey.update({ where: { id }, data: { lastUsedAt: at } }));
    },
  };

  const sessions: SessionRepository = {
    async create(session) {
      return toSession(await db.session.create({ data: session }));
    },
    async live(id, now) {
      const row = await db.session.findUnique({ where: { id } });
      return row && row.expiresAt > now ? toSession(row) : null;
    },
    async delete(id) {
      await db.session.deleteMany({ where: { id } });
    },
    async deleteExpired(now) {
      return (await db.session.deleteMany({ where: { expiresAt: { lte: now } } })).count;
    },
  };

  const throttles: ThrottleRepository = {
    async hit(key, now, windowMs) {
      // Fixed windows, race-safe across instances without a transaction:
      // 1. restart an expired window; conditional, so of two instances seeing the same expired window only the
      //    first restarts it (for the second it is no longer expired) and no hit is lost to a late reset;
      // 2. count the hit with a native upsert (INSERT ... ON CONFLICT DO UPDATE SET failures = failures + 1).
      await updated(
        db.loginThrottle.update({ where: { key, windowStart: { lte: windowCutoff(now, windowMs) } }, data: { windowStart: now, failures: 0 } }),
      );
      const row = await db.loginThrottle.upsert({
        where: { key },
        create: { key, windowStart: now, failures: 1 },
        update: { failures: { increment: 1 } },
      });
      return row.failures;
    },
    async count(key, now, windowMs) {
      const row = await db.loginThrottle.findUnique({ where: { key } });
      return row && row.windowStart > windowCutoff(now, windowMs) ? row.failures : 0;
    },
    async clear(key) {
      await db.loginThrottle.deleteMany({ where: { key } });
    },
    async deleteExpired(now, windowMs) {
      return (await db.loginThrottle.deleteMany({ where: { windowStart: { lte: windowCutoff(now, windowMs) } } })).count;
    },
  };

  const storage: Storage = {
    provider,
    bindings: guarded(bindings),
    accounts: guarded(accounts),
    apiKeys: guarded(apiKeys),
    sessions: guarded(sessions),
    throttles: guarded(throttles),
    // crm: operator keys, operators' account operations, lifecycle webhooks
    operatorKeys: guarded(createOperatorKeyRepository(db)),
    operatorAccounts: guarded(createOperatorAccountRepository(db)),
    webhooks: guarded(createWebhookRepository(db, sealer)),
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
  return storage;
}

/**
 * A conditional single-row update (`update` with extra filters in `where`), null when no row matched. Used instead
 * of updateMany everywhere: Prisma wraps updateMany in a transaction, and on SQLite a transaction holds the write
 * lock across an await, which stalls every other connection, in the worst case this very process's.
 */
async function updated<T>(update: Promise<T>): Promise<T | null> {
  try {
    return await update;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** A window that started at or before this instant has ended at `now`. */
function windowCutoff(now: Date, windowMs: number): Date {
  return new Date(now.getTime() - windowMs);
}

function oneOf<T extends string>(allowed: readonly T[], value: string, column: string, id: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new StorageError(`binding ${id}: unknown ${column} "${value}" in the database`);
}

function toAccount(row: Account): Account {
  return toAccountRow(row); // crm: carries externalId
}

function toApiKey(row: ApiKey): ApiKey {
  return {
    id: row.id,
    accountId: row.accountId,
    name: row.name,
    prefix: row.prefix,
    hash: row.hash,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
  };
}

function toSession(row: Session): Session {
  return { id: row.id, accountId: row.accountId, createdAt: row.createdAt, expiresAt: row.expiresAt };
}

/** Wraps every method so that "database down" errors come out as StorageUnavailableError. */
function guarded<T extends object>(repository: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(repository)) {
    wrapped[name] =
      typeof value === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await value.apply(repository, args);
            } catch (error) {
              throw toStorageError(error);
            }
          }
        : value;
  }
  return wrapped as T;
}
