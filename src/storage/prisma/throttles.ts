import type { ThrottleRepository } from '../types.js';
import type { HotSql } from './hot-sql.js';
import type { Db } from './shared.js';

export function throttleRepository(db: Db, sql: HotSql): ThrottleRepository {
  return {
    async hit(key, now, windowMs) {
      // Fixed windows, one atomic statement (race-safe across instances without a transaction): a new key starts a
      // window with 1; an ended window restarts at `now` with 1; otherwise the hit is counted. One raw upsert
      // instead of a conditional reset and an upsert through Prisma: every callback and sign-in pays for it.
      const cutoff = windowCutoff(now, windowMs);
      const [row] = await sql.rows<{ failures: bigint | number }>`
        INSERT INTO "LoginThrottle" ("key", "windowStart", "failures") VALUES (${key}, ${now}, 1)
        ON CONFLICT ("key") DO UPDATE SET
          "failures" = CASE WHEN "LoginThrottle"."windowStart" <= ${cutoff} THEN 1 ELSE "LoginThrottle"."failures" + 1 END,
          "windowStart" = CASE WHEN "LoginThrottle"."windowStart" <= ${cutoff} THEN ${now} ELSE "LoginThrottle"."windowStart" END
        RETURNING "failures"`;
      return Number(row!.failures);
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
}

/** A window that started at or before this instant has ended at `now`. */
function windowCutoff(now: Date, windowMs: number): Date {
  return new Date(now.getTime() - windowMs);
}
