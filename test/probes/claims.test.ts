// The probe scheduler's batch statements (src/storage/probes.ts) on both backends, through the storage the connector
// opens (HotSql on the adapter's connection): claimDue claims only active rows still due, earliest first, and two
// concurrent claims never take one row; a claim's row is not due until the claim ends; rescheduleMany writes a next
// due time (and a successful call) only while the claim holds.
import { randomUUID } from 'node:crypto';
import { forEachBackend, freshStorage } from '../helpers/db.js';
import type { Storage } from '../../src/storage/types.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);

/** `n` bindings in `state`, each with the due time `due(i)` (null: none). */
async function bindings(storage: Storage, n: number, state: 'active' | 'revoked', due: (i: number) => Date | null, raw: (sql: string) => Promise<unknown>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = (await storage.bindings.create({ id: randomUUID(), consumerKey: `ck-${randomUUID()}`, storeBaseUrl: 'https://shop.example/', state: 'pending', consumerSecret: 'cs', verifier: null, callbackAt: NOW }))!;
    await storage.bindings.update(b.id, b.version, { state });
    ids.push(b.id);
  }
  // Fixed due times (to check the order), in the text the SQLite adapter writes (PostgreSQL reads it as UTC).
  for (const [i, id] of ids.entries()) {
    const d = due(i);
    await raw(`UPDATE "Binding" SET "nextProbeAt" = ${d ? `'${d.toISOString().replace('Z', '+00:00')}'` : 'NULL'} WHERE "id" = '${id}'`);
  }
  return ids;
}

forEachBackend((backend, test) => {
  test('claimDue: only active rows still due, the earliest; concurrent claims take disjoint rows; claimed rows are not due until the claim ends', async (t) => {
    const { storage, raw } = await freshStorage(backend, t);
    // 30 due (1 s apart, in reverse creation order), 5 due later, 5 revoked with a past due time.
    const due = await bindings(storage, 30, 'active', (i) => at(-60_000 + (30 - i) * 1_000), raw);
    const later = await bindings(storage, 5, 'active', () => at(60_000), raw);
    const revoked = await bindings(storage, 5, 'revoked', () => at(-120_000), raw);
    t.is((await storage.probes.due(NOW, 100)).length, 30, 'due: the 30 active ones whose time has come');

    const until = at(120_000);
    const first = await storage.probes.claimDue(NOW, until, 5);
    t.deepEqual(first.map((c) => c.id).sort(), due.slice(-5).sort(), 'the earliest five (RETURNING gives them in no set order)');
    t.true(first.every((c) => c.lastCallOkAt === null));

    const [a, b] = await Promise.all([storage.probes.claimDue(NOW, until, 20), storage.probes.claimDue(NOW, until, 20)]);
    const taken = [...a!, ...b!].map((c) => c.id);
    t.is(new Set(taken).size, taken.length, 'two claims never take one row');
    const rest = await storage.probes.claimDue(NOW, until, 100);
    const all = [...first.map((c) => c.id), ...taken, ...rest.map((c) => c.id)];
    t.deepEqual([...all].sort(), [...due].sort(), 'every due active row claimed exactly once; not the later ones, not the revoked ones');
    t.false(all.some((id) => later.includes(id) || revoked.includes(id)));
    t.deepEqual(await storage.probes.claimDue(NOW, until, 100), [], 'nothing left to claim');
    t.is((await storage.probes.state(due[0]!))!.nextProbeAt!.getTime(), until.getTime(), 'the claim is the due time moved to until');
    t.is((await storage.probes.due(until, 100)).filter((d) => due.includes(d.id)).length, 30, "a dead claimer's probes come due again");
  });

  test('rescheduleMany: one statement; a next due time and a successful call written only while the claim holds', async (t) => {
    const { storage, raw } = await freshStorage(backend, t);
    const ids = await bindings(storage, 4, 'active', () => at(-1_000), raw);
    const until = at(120_000);
    const claimed = await storage.probes.claimDue(NOW, until, 10);
    t.is(claimed.length, 4);
    const ok = at(5_000);
    await storage.probes.recordOk(ids[1]!, at(1_000));
    const written = await storage.probes.rescheduleMany([
      { id: ids[0]!, claimedUntil: until, next: at(3600_000), callOkAt: ok },
      { id: ids[1]!, claimedUntil: until, next: at(3500_000) },
      { id: ids[2]!, claimedUntil: at(99_000), next: at(3400_000), callOkAt: ok }, // not its claim: left alone
    ]);
    t.is(written, 2);
    t.deepEqual(await storage.probes.state(ids[0]!), { nextProbeAt: at(3600_000), lastCallOkAt: ok });
    t.deepEqual(await storage.probes.state(ids[1]!), { nextProbeAt: at(3500_000), lastCallOkAt: at(1_000) }, 'no call given: the recorded one kept');
    t.deepEqual(await storage.probes.state(ids[2]!), { nextProbeAt: until, lastCallOkAt: null }, 'another claim: unchanged');
    t.is(await storage.probes.rescheduleMany([]), 0);
    // The call recorded is given back with the next claim (the scheduler skips a store in use).
    const [again] = await storage.probes.claimDue(at(3600_000), at(3700_000), 10).then((c) => c.filter((x) => x.id === ids[0]));
    t.is(again?.lastCallOkAt?.getTime(), ok.getTime());
  });
});
