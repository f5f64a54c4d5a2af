// Each binding's activation timeline: appended by the activation steps, bounded per binding on every write (the
// newest `keep` stay), deleted with the binding (ON DELETE CASCADE). Details are for people and hold no secret.
import { randomUUID } from 'node:crypto';
import { BINDING_EVENT_KINDS, type BindingEvent, type BindingEventRepository } from '../types.js';
import type { HotSql } from './hot-sql.js';
import type { Db } from './shared.js';

/** The longest detail kept; longer ones are cut with an ellipsis. */
export const BINDING_EVENT_DETAIL_MAX = 500;

// Ids sort in writing order (time, then a per-process counter), so events of the same millisecond keep their order.
let counter = 0;
const eventId = (at: Date): string =>
  `${at.getTime().toString(36).padStart(10, '0')}-${(counter++ % 1_679_616).toString(36).padStart(4, '0')}-${randomUUID().slice(0, 8)}`;

export function bindingEventRepository(db: Db, sql: HotSql): BindingEventRepository {
  return {
    async record(event, { keep, first }) {
      const detail = event.detail.length > BINDING_EVENT_DETAIL_MAX ? `${event.detail.slice(0, BINDING_EVENT_DETAIL_MAX - 1)}…` : event.detail;
      // Raw SQL on purpose, as for bindings.create: the callback writes one event, and Prisma's create costs about
      // twice the statement's CPU (bench/activation-storm.ts). Dates are bound as bindings.create binds them.
      await sql.run`
        INSERT INTO "BindingEvent" ("id", "bindingId", "at", "kind", "detail")
        VALUES (${eventId(event.at)}, ${event.bindingId}, ${event.at}, ${event.kind}, ${detail})`;
      if (first) return;
      // One statement on both providers: everything of this binding beyond its newest `keep`.
      await sql.run`
        DELETE FROM "BindingEvent" WHERE "bindingId" = ${event.bindingId} AND "id" NOT IN (
          SELECT "id" FROM "BindingEvent" WHERE "bindingId" = ${event.bindingId} ORDER BY "at" DESC, "id" DESC LIMIT ${keep})`;
    },
    async recent(bindingId, limit) {
      const rows = await db.bindingEvent.findMany({ where: { bindingId }, orderBy: [{ at: 'desc' }, { id: 'desc' }], take: limit });
      return rows.map(
        (r): BindingEvent => ({
          id: r.id,
          bindingId: r.bindingId,
          at: r.at,
          kind: (BINDING_EVENT_KINDS as readonly string[]).includes(r.kind) ? (r.kind as BindingEvent['kind']) : 'detection',
          detail: r.detail,
        }),
      );
    },
  };
}
