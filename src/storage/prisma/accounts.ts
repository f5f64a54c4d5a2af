import type { Clock } from '../../clock.js';
import { isUniqueViolation } from '../errors.js';
import type { Account, AccountRepository } from '../types.js';
import type { Db } from './shared.js';

export function accountRepository(db: Db, clock: Clock): AccountRepository {
  return {
    async create(account) {
      try {
        return toAccount(await db.account.create({ data: { ...account, email: account.email.toLowerCase(), createdAt: clock.now() } }));
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
}

function toAccount(row: Account): Account {
  return { id: row.id, email: row.email, passwordHash: row.passwordHash, externalId: row.externalId ?? null, createdAt: row.createdAt };
}
