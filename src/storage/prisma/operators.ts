// The operator repositories on Prisma (interfaces: ../operators.ts): single statements, conditional updates.
import { afterCursor, byCreation, pageOf, updated, type Db } from './shared.js';
import { isUniqueViolation } from '../errors.js';
import type { Account } from '../types.js';
import type { OperatorAccountRepository, OperatorKey, OperatorKeyRepository } from '../operators.js';

export function toOperatorKey(row: OperatorKey): OperatorKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    hash: row.hash,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
  };
}

export function toAccountRow(row: Account): Account {
  return { id: row.id, email: row.email, passwordHash: row.passwordHash, externalId: row.externalId ?? null, createdAt: row.createdAt };
}

export function createOperatorKeyRepository(db: Db): OperatorKeyRepository {
  return {
    async create(key) {
      return toOperatorKey(await db.operatorKey.create({ data: key }));
    },
    async activeByHash(hash) {
      const row = await db.operatorKey.findUnique({ where: { hash } });
      return row && row.revokedAt === null ? toOperatorKey(row) : null;
    },
    async list() {
      return (await db.operatorKey.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).map(toOperatorKey);
    },
    async revoke(id, at) {
      return (await updated(db.operatorKey.update({ where: { id, revokedAt: null }, data: { revokedAt: at } }))) !== null;
    },
    async touch(id, at) {
      await updated(db.operatorKey.update({ where: { id }, data: { lastUsedAt: at } }));
    },
  };
}

export function createOperatorAccountRepository(db: Db): OperatorAccountRepository {
  return {
    async create(account) {
      try {
        return toAccountRow(await db.account.create({ data: { ...account, email: account.email.toLowerCase() } }));
      } catch (error) {
        if (isUniqueViolation(error, 'Account', 'email')) return 'email_taken';
        if (isUniqueViolation(error, 'Account', 'externalId')) return 'external_id_taken';
        throw error;
      }
    },
    async byExternalId(externalId) {
      const row = await db.account.findUnique({ where: { externalId } });
      return row && toAccountRow(row);
    },
    async list(request) {
      return pageOf(await db.account.findMany({ where: afterCursor(request.after), orderBy: byCreation, take: request.limit + 1 }), request.limit, toAccountRow);
    },
  };
}
