import type { Clock } from '../../clock.js';
import type { Session, SessionRepository } from '../types.js';
import type { Db } from './shared.js';

export function sessionRepository(db: Db, clock: Clock): SessionRepository {
  return {
    async create(session) {
      return toSession(await db.session.create({ data: { ...session, createdAt: clock.now() } }));
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
}

function toSession(row: Session): Session {
  return { id: row.id, accountId: row.accountId, createdAt: row.createdAt, expiresAt: row.expiresAt };
}
