// The probe repository on Prisma and the hot statements (interfaces and the rules they keep: ../probes.ts).
import { Prisma } from '../generated/sqlite/client.js';
import { dateOf, dateOrNull, prismaSql, sqliteDateText, type HotSql, type SqlDate } from './hot-sql.js';
import type { Db } from './shared.js';
import type { DueProbe, ProbeRepository } from '../probes.js';

/**
 * The scheduler's query: active bindings due for a probe, earliest first. It reads only the index [state,
 * nextProbeAt] and the rows it returns (bench/probes.ts prints its plan on both providers); its ORDER BY is the
 * index's own order, so nothing is sorted. Through `sql` (HotSql: a few µs where Prisma's query compiler spent
 * ~150-340 µs of CPU on every tick of an idle instance); Prisma's raw query when none is given.
 */
export async function findDueProbes(db: Db, now: Date, limit: number, sql: HotSql = prismaSql(db)): Promise<DueProbe[]> {
  const rows = await sql.rows<{ id: string; nextProbeAt: SqlDate; lastCallOkAt: SqlDate | null }>`
    SELECT "id", "nextProbeAt", "lastCallOkAt" FROM "Binding" WHERE "state" = 'active' AND "nextProbeAt" <= ${now} ORDER BY "state", "nextProbeAt" LIMIT ${limit}`;
  return rows.map((r) => ({ id: r.id, nextProbeAt: dateOf(r.nextProbeAt), lastCallOkAt: dateOrNull(r.lastCallOkAt) }));
}

export function createProbeRepository(db: Db, provider: 'sqlite' | 'postgresql' = 'sqlite', sql: HotSql = prismaSql(db)): ProbeRepository {
  const repository: ProbeRepository = {
    async scheduleNew(now, intervalMs, limit, random) {
      // Raw: Prisma adds an ORDER BY id to a findMany with take, which sorts every unscheduled row (100,000 of them
      // when a deployment first starts probing). The ORDER BY here is the index's own order [state, nextProbeAt], so
      // nothing is sorted; PostgreSQL needs it to pick the index: it takes "active" and "nextProbeAt IS NULL" as
      // independent (10% of rows have no due time: every binding not active), expects thousands of matches and
      // scanned all 100,000 rows every second (52 ms) where the index finds the usual none in 0.05 ms
      // (npm run bench -- scale prints the plan).
      // Through HotSql: asked every tick, and almost always finds none.
      const rows = await sql.rows<{ id: string }>`
        SELECT "id" FROM "Binding" WHERE "state" = 'active' AND "nextProbeAt" IS NULL ORDER BY "state", "nextProbeAt" LIMIT ${limit}`;
      if (rows.length === 0) return 0;
      // One statement for the batch, each row its own random time; only rows still unscheduled (another instance
      // may have given them a time meanwhile). Raw, so updatedAt stays as it is.
      const values = rows.map(({ id }) => {
        const at = new Date(now.getTime() + Math.floor(random() * intervalMs));
        return provider === 'postgresql' ? Prisma.sql`(${id}, CAST(${at} AS TIMESTAMP(3)))` : Prisma.sql`(${id}, ${at})`;
      });
      return provider === 'postgresql'
        ? db.$executeRaw`
            UPDATE "Binding" AS b SET "nextProbeAt" = v.at FROM (VALUES ${Prisma.join(values)}) AS v(id, at)
            WHERE b."id" = v.id AND b."nextProbeAt" IS NULL`
        : db.$executeRaw`
            UPDATE "Binding" SET "nextProbeAt" = v.column2 FROM (VALUES ${Prisma.join(values)}) AS v
            WHERE "Binding"."id" = v.column1 AND "Binding"."nextProbeAt" IS NULL`;
    },
    due: (now, limit) => findDueProbes(db, now, limit, sql),
    // Claims and reschedules run for every probe: through HotSql (a fraction of Prisma's cost per query, and no
    // @updatedAt bump: bookkeeping is no change of the store).
    async claimDue(now, until, limit) {
      // One statement for the tick's batch. The inner SELECT (on PostgreSQL a CTE: evaluated once, its rows locked
      // before the update; as an IN subquery the planner may run it again per row, a LIMIT window that moves) walks
      // the index [state, nextProbeAt] over due rows only; the outer WHERE repeats the condition, so a row claimed
      // by another instance since is left alone (PostgreSQL re-checks it on the row's newest version; SKIP LOCKED
      // passes over rows another claim holds, so two instances take different rows instead of waiting on each
      // other; SQLite has one writer at a time).
      const rows =
        provider === 'postgresql'
          ? await sql.rows<{ id: string; lastCallOkAt: SqlDate | null }>`
              WITH "due" AS (
                SELECT "id" FROM "Binding" WHERE "state" = 'active' AND "nextProbeAt" <= ${now} ORDER BY "state", "nextProbeAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)
              UPDATE "Binding" AS b SET "nextProbeAt" = ${until} FROM "due"
              WHERE b."id" = "due"."id" AND b."state" = 'active' AND b."nextProbeAt" <= ${now} RETURNING b."id", b."lastCallOkAt"`
          : await sql.rows<{ id: string; lastCallOkAt: SqlDate | null }>`
              UPDATE "Binding" SET "nextProbeAt" = ${until} WHERE "id" IN (
                SELECT "id" FROM "Binding" WHERE "state" = 'active' AND "nextProbeAt" <= ${now} ORDER BY "state", "nextProbeAt" LIMIT ${limit})
              AND "state" = 'active' AND "nextProbeAt" <= ${now} RETURNING "id", "lastCallOkAt"`;
      return rows.map((r) => ({ id: r.id, lastCallOkAt: dateOrNull(r.lastCallOkAt) }));
    },
    async rescheduleMany(entries) {
      if (entries.length === 0) return 0;
      // One statement for the batch, the entries as one JSON parameter (a fixed statement, prepared once, whatever
      // the batch's size); each row is written only while its claim holds.
      if (provider === 'postgresql') {
        const json = JSON.stringify(entries.map((e) => ({ id: e.id, until: e.claimedUntil.toISOString(), next: e.next.toISOString(), ok: e.callOkAt?.toISOString() ?? null })));
        return sql.run`
          UPDATE "Binding" AS b SET "nextProbeAt" = j."next", "lastCallOkAt" = COALESCE(j."ok", b."lastCallOkAt")
          FROM json_to_recordset(CAST(${json} AS json)) AS j("id" text, "until" timestamp(3), "next" timestamp(3), "ok" timestamp(3))
          WHERE b."id" = j."id" AND b."nextProbeAt" = j."until"`;
      }
      const json = JSON.stringify(entries.map((e) => [e.id, sqliteDateText(e.claimedUntil), sqliteDateText(e.next), e.callOkAt ? sqliteDateText(e.callOkAt) : null]));
      return sql.run`
        UPDATE "Binding" SET "nextProbeAt" = j."next", "lastCallOkAt" = COALESCE(j."ok", "Binding"."lastCallOkAt")
        FROM (SELECT json_extract("value", '$[0]') AS "id", json_extract("value", '$[1]') AS "until", json_extract("value", '$[2]') AS "next",
          json_extract("value", '$[3]') AS "ok" FROM json_each(${json})) AS j
        WHERE "Binding"."id" = j."id" AND "Binding"."nextProbeAt" = j."until"`;
    },
    async claim(id, seen, until) {
      return (await sql.run`
        UPDATE "Binding" SET "nextProbeAt" = ${until} WHERE "id" = ${id} AND "state" = 'active' AND "nextProbeAt" = ${seen}`) === 1;
    },
    async reschedule(id, claimedUntil, next, callOkAt) {
      return (await repository.rescheduleMany([{ id, claimedUntil, next, ...(callOkAt ? { callOkAt } : {}) }])) === 1;
    },
    async recordOk(id, at) {
      await sql.run`UPDATE "Binding" SET "lastCallOkAt" = ${at} WHERE "id" = ${id}`;
    },
    async stateCounts() {
      // The counters the Binding triggers keep (migration 20261201174900_binding_state_counts): a few rows per
      // state, however many bindings (a GROUP BY over Binding read every row: 6-33 ms at 100,000).
      const groups = await db.bindingStateCount.groupBy({ by: ['state'], _sum: { n: true } });
      return Object.fromEntries(groups.map((g) => [g.state, g._sum.n ?? 0]));
    },
    async state(id) {
      return db.binding.findUnique({ where: { id }, select: { nextProbeAt: true, lastCallOkAt: true } });
    },
  };
  return repository;
}
