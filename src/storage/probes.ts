// Persistence of revocation probes (src/probes/prober.ts): two columns of the Binding row, nextProbeAt (when the
// active store is next due; moving it forward with a conditional update is also the claim, so two instances never
// probe one store at once, and a dead instance's claim simply comes due again) and lastCallOkAt (a successful call
// to the store, written at most once a minute: a store in use needs no probe). Neither touches the row's version or
// updatedAt: they are bookkeeping, not a state change, and must not make a transition lose its race.
import type { Db } from './prisma/shared.js';
import { updated } from './prisma/shared.js';

export interface DueProbe {
  id: string;
  /** The due time as read: the claim is conditional on it. */
  nextProbeAt: Date;
  lastCallOkAt: Date | null;
}

export interface ProbeRepository {
  /** Gives up to `limit` active bindings that have no due time yet one spread over [now, now + intervalMs). */
  scheduleNew(now: Date, intervalMs: number, limit: number, random: () => number): Promise<number>;
  /** Active bindings due for a probe (index [state, nextProbeAt]), earliest first. */
  due(now: Date, limit: number): Promise<DueProbe[]>;
  /** Claims a due probe by moving its due time from `seen` to `until` (a lease); false when another instance did. */
  claim(id: string, seen: Date, until: Date): Promise<boolean>;
  /** The next due time, written only while `owner` (the claim's `until`) still holds it. */
  reschedule(id: string, claimedUntil: Date, next: Date): Promise<boolean>;
  /** A successful call to the store at `at`. */
  recordOk(id: string, at: Date): Promise<void>;
  /** Bindings per state (metrics). */
  stateCounts(): Promise<Partial<Record<string, number>>>;
  /** The two columns (tests, the store doctor). */
  state(id: string): Promise<{ nextProbeAt: Date | null; lastCallOkAt: Date | null } | null>;
}

export function createProbeRepository(db: Db): ProbeRepository {
  return {
    async scheduleNew(now, intervalMs, limit, random) {
      const rows = await db.binding.findMany({ where: { state: 'active', nextProbeAt: null }, select: { id: true }, take: limit });
      let scheduled = 0;
      for (const { id } of rows) {
        const at = new Date(now.getTime() + Math.floor(random() * intervalMs));
        if (await updated(db.binding.update({ where: { id, nextProbeAt: null }, data: { nextProbeAt: at }, select: { id: true } }))) scheduled++;
      }
      return scheduled;
    },
    async due(now, limit) {
      const rows = await db.binding.findMany({
        where: { state: 'active', nextProbeAt: { lte: now } },
        select: { id: true, nextProbeAt: true, lastCallOkAt: true },
        orderBy: [{ nextProbeAt: 'asc' }, { id: 'asc' }],
        take: limit,
      });
      return rows.map((r) => ({ id: r.id, nextProbeAt: r.nextProbeAt!, lastCallOkAt: r.lastCallOkAt }));
    },
    async claim(id, seen, until) {
      return (await updated(db.binding.update({ where: { id, state: 'active', nextProbeAt: seen }, data: { nextProbeAt: until }, select: { id: true } }))) !== null;
    },
    async reschedule(id, claimedUntil, next) {
      return (await updated(db.binding.update({ where: { id, nextProbeAt: claimedUntil }, data: { nextProbeAt: next }, select: { id: true } }))) !== null;
    },
    async recordOk(id, at) {
      await updated(db.binding.update({ where: { id }, data: { lastCallOkAt: at }, select: { id: true } }));
    },
    async stateCounts() {
      const groups = await db.binding.groupBy({ by: ['state'], _count: { _all: true } });
      return Object.fromEntries(groups.map((g) => [g.state, g._count._all]));
    },
    async state(id) {
      return db.binding.findUnique({ where: { id }, select: { nextProbeAt: true, lastCallOkAt: true } });
    },
  };
}
