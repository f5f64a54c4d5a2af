// Callbacks we refused, remembered briefly so the popup can say what was refused instead of "no callback received".
// One row per consumer key (by hash: nothing secret is kept), bounded in age and in count on every write.
import type { CallbackRefusal, CallbackRefusalRepository } from '../types.js';
import type { Db } from './shared.js';

export function callbackRefusalRepository(db: Db): CallbackRefusalRepository {
  return {
    async record(refusal, { keepSince, max }) {
      const { consumerKeyHash, reason, field, message, refusedAt } = refusal;
      await db.callbackRefusal.upsert({
        where: { consumerKeyHash },
        create: { consumerKeyHash, reason, field, message, refusedAt },
        update: { reason, field, message, refusedAt },
      });
      // One statement on both providers: anything too old, and anything beyond the newest `max` (a flood of
      // made-up consumer keys cannot grow the table).
      await db.$executeRaw`
        DELETE FROM "CallbackRefusal" WHERE "refusedAt" < ${keepSince} OR "consumerKeyHash" NOT IN (
          SELECT "consumerKeyHash" FROM "CallbackRefusal" ORDER BY "refusedAt" DESC, "consumerKeyHash" LIMIT ${max})`;
    },
    async latest(consumerKeyHash, since) {
      const row = await db.callbackRefusal.findUnique({ where: { consumerKeyHash } });
      if (!row || row.refusedAt < since) return null;
      return {
        consumerKeyHash: row.consumerKeyHash,
        reason: row.reason as CallbackRefusal['reason'],
        field: row.field,
        message: row.message,
        refusedAt: row.refusedAt,
      };
    },
  };
}
