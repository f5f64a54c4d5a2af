// Issue 13: each account's activation token (the path segment of its Callback and Identity Link URLs) and the
// tombstones that keep a deleted binding's consumer key reserved.
import type { Sealer } from '../../secrets/sealer.js';
import type { ActivationToken, ActivationTokenRepository, TombstoneRepository } from '../types.js';
import { dateOf, type HotSql, type SqlDate } from './hot-sql.js';
import { updated, type Db } from './shared.js';

export function activationTokenRepository(db: Db, sealer: Sealer, sql: HotSql): ActivationTokenRepository {
  const select = { id: true, activationTokenSealed: true, activationTokenAt: true } as const;
  type Row = { id: string; activationTokenSealed: string | null; activationTokenAt: Date | null };
  const toToken = (row: Row | null): ActivationToken | null =>
    row && row.activationTokenSealed && row.activationTokenAt
      ? { accountId: row.id, token: sealer.open(row.activationTokenSealed), createdAt: row.activationTokenAt }
      : null;
  const repository: ActivationTokenRepository = {
    async ofAccount(accountId) {
      return toToken(await db.account.findUnique({ where: { id: accountId }, select }));
    },
    async ofAccounts(accountIds) {
      if (!accountIds.length) return [];
      const rows = await db.account.findMany({ where: { id: { in: [...accountIds] } }, select });
      return rows.map(toToken).filter((t): t is ActivationToken => t !== null);
    },
    async setIfMissing(accountId, token, tokenHash, at) {
      // Conditional on "no token yet": two instances showing the page at once agree on one token.
      await updated(
        db.account.update({
          where: { id: accountId, activationTokenAt: null },
          data: { activationTokenHash: tokenHash, activationTokenSealed: sealer.seal(token), activationTokenAt: at },
          select: { id: true },
        }),
      );
      return repository.ofAccount(accountId);
    },
    async replace(accountId, token, tokenHash, at) {
      const row = await updated(
        db.account.update({
          where: { id: accountId },
          data: { activationTokenHash: tokenHash, activationTokenSealed: sealer.seal(token), activationTokenAt: at },
          select,
        }),
      );
      return toToken(row);
    },
    async accountIdByHash(tokenHash) {
      // Raw: every callback through an account's URL asks (a Prisma findUnique costs ~1.2 ms of CPU).
      const [row] = await sql.rows<{ id: string }>`SELECT "id" FROM "Account" WHERE "activationTokenHash" = ${tokenHash}`;
      return row?.id ?? null;
    },
  };
  return repository;
}

export function tombstoneRepository(db: Db, sql: HotSql): TombstoneRepository {
  return {
    async byKeyHash(consumerKeyHash) {
      // Raw: every new callback asks (a Prisma findUnique costs ~1.2 ms of CPU on the callback's hot path).
      const [row] = await sql.rows<{ consumerKeyHash: string; consumerSecretHash: string; accountId: string | null; deletedAt: SqlDate }>`
        SELECT "consumerKeyHash", "consumerSecretHash", "accountId", "deletedAt" FROM "ConsumerKeyTombstone" WHERE "consumerKeyHash" = ${consumerKeyHash}`;
      return row ? { ...row, deletedAt: dateOf(row.deletedAt) } : null;
    },
    async put(tombstone) {
      const { consumerKeyHash, ...rest } = tombstone;
      await db.consumerKeyTombstone.upsert({ where: { consumerKeyHash }, create: tombstone, update: rest });
    },
  };
}
