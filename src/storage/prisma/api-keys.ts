import type { Clock } from '../../clock.js';
import type { ApiKey, ApiKeyRepository } from '../types.js';
import { dateOf, dateOrNull, type HotSql, type SqlDate } from './hot-sql.js';
import { byCreation, updated, type Db } from './shared.js';

/** An ApiKey row as a hot statement gives it back (driver rows: dates as text on SQLite). */
type KeyRow = Omit<ApiKey, 'createdAt' | 'revokedAt' | 'lastUsedAt'> & { createdAt: SqlDate; revokedAt: SqlDate | null; lastUsedAt: SqlDate | null };

export function apiKeyRepository(db: Db, clock: Clock, sql: HotSql): ApiKeyRepository {
  return {
    async create(key) {
      return toApiKey(await db.apiKey.create({ data: { ...key, createdAt: clock.now() } }));
    },
    async activeByHash(hash) {
      // Raw through HotSql, like the binding read: every call whose key is not cached on this instance looks it up,
      // and with many accounts most first calls to a store are such (Prisma's findUnique and update cost 1-3 ms of
      // CPU each: the cold first call at 100,000 bindings over 10,000 accounts, issue 16).
      const [row] = await sql.rows<KeyRow>`SELECT "id", "accountId", "name", "prefix", "hash", "createdAt", "revokedAt", "lastUsedAt" FROM "ApiKey" WHERE "hash" = ${hash}`;
      if (!row || row.revokedAt !== null) return null;
      return toApiKey({ ...row, createdAt: dateOf(row.createdAt), revokedAt: null, lastUsedAt: dateOrNull(row.lastUsedAt) });
    },
    async listByAccount(accountId) {
      return (await db.apiKey.findMany({ where: { accountId }, orderBy: byCreation })).map(toApiKey);
    },
    async revoke(id, accountId, at) {
      const row = await updated(db.apiKey.update({ where: { id, accountId, revokedAt: null }, data: { revokedAt: at } }));
      return row && toApiKey(row);
    },
    async touch(id, at) {
      // Written after each such look-up (auth.ts): raw for the same reason. A key deleted since changes nothing.
      await sql.run`UPDATE "ApiKey" SET "lastUsedAt" = ${at} WHERE "id" = ${id}`;
    },
  };
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
