import type { ThrottleRepository } from '../types.js';
import { updated, type Db } from './shared.js';

export function throttleRepository(db: Db): ThrottleRepository {
  return {
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
}

/** A window that started at or before this instant has ended at `now`. */
function windowCutoff(now: Date, windowMs: number): Date {
  return new Date(now.getTime() - windowMs);
}
