// Prisma repositories for identities, password resets and credentials. index.ts wraps them in `guarded` like
// every other repository, so a database outage comes out as StorageUnavailableError.
import { isNotFound } from '../errors.js';
import type { CredentialRepository, Identity, IdentityRepository, PasswordReset, PasswordResetRepository } from '../identity-types.js';
import type { Db } from './shared.js';

export function createIdentityRepository(db: Db): IdentityRepository {
  return {
    async create(identity) {
      try {
        return toIdentity(await db.identity.create({ data: identity }));
      } catch (error) {
        // Two first sign-ins of one identity at once: the loser re-reads the winner's row. (issuer, subject) is the
        // table's only unique key besides the random id, so any unique violation is that one.
        if ((error as { code?: unknown } | null)?.code === 'P2002') return null;
        throw error;
      }
    },
    async createWithAccount(account, identity) {
      try {
        // One nested create: a single statement batch Prisma runs in a transaction.
        const row = await db.account.create({ data: { ...account, email: account.email.toLowerCase(), identities: { create: identity } } });
        return { id: row.id, email: row.email, passwordHash: row.passwordHash, externalId: row.externalId ?? null, createdAt: row.createdAt };
      } catch (error) {
        if ((error as { code?: unknown } | null)?.code === 'P2002') return null;
        throw error;
      }
    },
    async find(issuer, subject) {
      const row = await db.identity.findUnique({ where: { issuer_subject: { issuer, subject } } });
      return row && toIdentity(row);
    },
    async listByAccount(accountId) {
      return (await db.identity.findMany({ where: { accountId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).map(toIdentity);
    },
  };
}

export function createPasswordResetRepository(db: Db): PasswordResetRepository {
  return {
    async create(reset) {
      return toReset(await db.passwordReset.create({ data: reset }));
    },
    async byTokenHash(tokenHash) {
      const row = await db.passwordReset.findUnique({ where: { tokenHash } });
      return row && toReset(row);
    },
    async complete(tokenHash, now, passwordHash) {
      const reset = await db.passwordReset.findUnique({ where: { tokenHash } });
      if (!reset || reset.usedAt !== null || reset.expiresAt <= now) return false;
      try {
        // One batch transaction: the conditional update throws "not found" when another submission used the link
        // first, and that rolls back the password and session writes with it.
        await db.$transaction([
          db.passwordReset.update({ where: { tokenHash, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } }),
          db.account.update({ where: { id: reset.accountId }, data: { passwordHash } }),
          db.session.deleteMany({ where: { accountId: reset.accountId } }),
        ]);
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    async deleteExpired(now) {
      return (await db.passwordReset.deleteMany({ where: { expiresAt: { lte: now } } })).count;
    },
  };
}

export function createCredentialRepository(db: Db): CredentialRepository {
  return {
    async setPasswordHash(accountId, passwordHash) {
      try {
        await db.account.update({ where: { id: accountId }, data: { passwordHash } });
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    async endSessions(accountId, keepSessionId) {
      const where = keepSessionId === undefined ? { accountId } : { accountId, id: { not: keepSessionId } };
      return (await db.session.deleteMany({ where })).count;
    },
  };
}

function toIdentity(row: Identity): Identity {
  return { id: row.id, issuer: row.issuer, subject: row.subject, accountId: row.accountId, email: row.email, createdAt: row.createdAt };
}

function toReset(row: PasswordReset): PasswordReset {
  return { tokenHash: row.tokenHash, accountId: row.accountId, createdAt: row.createdAt, expiresAt: row.expiresAt, usedAt: row.usedAt };
}
