import type { Clock } from '../../clock.js';
import type { ApiKey, ApiKeyRepository } from '../types.js';
import { byCreation, updated, type Db } from './shared.js';

export function apiKeyRepository(db: Db, clock: Clock): ApiKeyRepository {
  return {
    async create(key) {
      return toApiKey(await db.apiKey.create({ data: { ...key, createdAt: clock.now() } }));
    },
    async activeByHash(hash) {
      const row = await db.apiKey.findUnique({ where: { hash } });
      return row && row.revokedAt === null ? toApiKey(row) : null;
    },
    async listByAccount(accountId) {
      return (await db.apiKey.findMany({ where: { accountId }, orderBy: byCreation })).map(toApiKey);
    },
    async revoke(id, accountId, at) {
      const row = await updated(db.apiKey.update({ where: { id, accountId, revokedAt: null }, data: { revokedAt: at } }));
      return row && toApiKey(row);
    },
    async touch(id, at) {
      await updated(db.apiKey.update({ where: { id }, data: { lastUsedAt: at } }));
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
