// Bindings per state (/metrics) come from counters the database's triggers keep (migration
// 20261201174900_binding_state_counts). Two instances race on every kind of write a binding goes through (the
// callback's hot insert, Prisma's insert, conditional transitions, deletes with and without events, the pending
// trims, an account's deletion) and after each round the counters must equal a real COUNT(*).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { Sealer } from '../../src/secrets/sealer.js';
import type { NewBinding, Storage } from '../../src/storage/types.js';
import { newBinding, T0 } from '../helpers/bindings.js';
import { executeScript, forEachBackend, freshStorage, type FreshStorage } from '../helpers/db.js';
import { runRound, type Round, type WireBinding } from './fixtures/binding-writer.js';

const id = () => randomUUID();
const MIGRATION = '20261201174900_binding_state_counts';
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');


/** Non-zero counts only: a state whose bindings all went may keep a counter at 0. */
function nonZero(counts: Partial<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0 && n !== undefined)) as Record<string, number>;
}

async function realCounts(db: FreshStorage): Promise<Record<string, number>> {
  const rows = await db.raw('SELECT "state", COUNT(*) AS "n" FROM "Binding" GROUP BY "state"');
  return nonZero(Object.fromEntries(rows.map((r) => [String(r.state), Number(r.n)])));
}

async function countsMatch(t: ExecutionContext, db: FreshStorage, storage: Storage, round: string): Promise<Record<string, number>> {
  const real = await realCounts(db);
  t.deepEqual(nonZero(await storage.probes.stateCounts()), real, `after ${round}`);
  return real;
}

function wire(b: NewBinding): WireBinding {
  return { ...b, callbackAt: b.callbackAt.toISOString(), nextAttemptAt: b.nextAttemptAt && b.nextAttemptAt.toISOString() };
}

/** test/storage/fixtures/binding-writer.ts as the second instance: `run` resolves once it has run the round. */
function startWriter(t: ExecutionContext, databaseUrl: string, key: Buffer) {
  const child = spawn(process.execPath, [tsxCli, `${root}test/storage/fixtures/binding-writer.ts`, databaseUrl, key.toString('hex')], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    child.stdin.end();
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (what: string) => {
    const line = await lines.next();
    if (line.done) throw new Error(`binding-writer.ts ended before ${what}`);
    return line.value;
  };
  const ready = next('ready');
  let queue: Promise<unknown> = ready;
  return {
    ready,
    run(round: Round): Promise<void> {
      child.stdin.write(`${JSON.stringify(round)}\n`);
      const answer = queue.then(() => next(`answering a ${round.kind} round`));
      queue = answer;
      return answer.then((line) => {
        if (line !== 'ok') throw new Error(`the other instance failed its ${round.kind} round: ${JSON.parse(line) as string}`);
      });
    },
  };
}

forEachBackend((backend, test) => {
  test('two instances racing on inserts, transitions and deletes keep the per-state counts equal to COUNT(*)', async (t) => {
    const key = randomBytes(32);
    const db = await freshStorage(backend, t, { sealer: new Sealer([{ id: 'test', key }]) });
    const a = db.storage;
    const other = startWriter(t, db.url, key);
    await other.ready;
    // Each round run by this process and the other at the same moment.
    const race = (round: Round) => Promise.all([runRound(a, round), other.run(round)]);
    t.deepEqual(nonZero(await a.probes.stateCounts()), {}, 'an empty database counts nothing');

    // The callback's hot insert, both instances with the same consumer keys: one row per key.
    const fresh = Array.from({ length: 40 }, () => wire(newBinding()));
    await Promise.all([runRound(a, { kind: 'create', bindings: fresh }), other.run({ kind: 'create', bindings: fresh.map((w) => ({ ...w, id: id() })) })]);
    const ids = (await a.bindings.list()).map((x) => x.id);
    t.is(ids.length, 40);
    t.deepEqual(await countsMatch(t, db, a, 'the racing hot inserts'), { pending: 40 });

    // Conditional transitions raced by both: each binding moves once.
    await race({ kind: 'transition', ids, from: 'pending', to: ['request_token'] });
    t.deepEqual(await countsMatch(t, db, a, 'pending -> request_token'), { request_token: 40 });
    // The two instances want different outcomes for the same binding: one wins, the count follows the winner.
    await Promise.all([
      runRound(a, { kind: 'transition', ids, from: 'request_token', to: ['active', 'failed'] }),
      other.run({ kind: 'transition', ids, from: 'request_token', to: ['revoked', 'active', 'active'] }),
    ]);
    await countsMatch(t, db, a, 'request_token -> active / failed / revoked');
    // Updates that change no state (probe bookkeeping, patches of other fields) leave the counts alone.
    await race({ kind: 'touch', ids });
    await countsMatch(t, db, a, 'updates of other fields');

    // Prisma's insert (pasted credentials), both with the same keys; with and without its events' transaction.
    const pasted = Array.from({ length: 10 }, () => wire(newBinding({ origin: 'credentials' })));
    await Promise.all([runRound(a, { kind: 'insert', bindings: pasted, state: 'active' }), other.run({ kind: 'insert', bindings: pasted.map((w) => ({ ...w, id: id() })), state: 'active' })]);
    await countsMatch(t, db, a, 'the racing inserts of pasted stores');

    // Deletes raced by both: with events (one transaction with the tombstone) and without.
    const all = (await a.bindings.list()).map((x) => x.id);
    await race({ kind: 'delete', ids: all.slice(0, 20) });
    t.is((await a.bindings.list()).length, all.length - 20);
    await countsMatch(t, db, a, 'the racing deletes');

    // Multi-row deletes raced by both: the pending trim of one account and the abandoned sweep.
    const owner = (await a.accounts.create({ id: id(), email: `${id()}@example.com`, passwordHash: 'scrypt$stand-in' }))!;
    const pending = Array.from({ length: 12 }, (_, i) => wire(newBinding({ accountId: owner.id, callbackAt: new Date(T0.getTime() + i * 1000) })));
    await Promise.all([runRound(a, { kind: 'create', bindings: pending.slice(0, 6) }), other.run({ kind: 'create', bindings: pending.slice(6) })]);
    await race({ kind: 'trim', accountId: owner.id, keep: 4 });
    t.is((await a.bindings.listByAccount(owner.id)).length, 4);
    await countsMatch(t, db, a, 'the racing pending trims');
    const keep = (await a.bindings.listByAccount(owner.id))[0]!;
    await runRound(a, { kind: 'transition', ids: [keep.id], from: 'pending', to: ['active'] });
    await race({ kind: 'abandon', before: new Date(T0.getTime() + 60_000).toISOString() });
    await countsMatch(t, db, a, 'the racing abandoned sweeps');

    // Deleting the account (no repository method: as an operator would, in SQL) keeps its bindings (SetNull): a
    // cascade that changes no state.
    await executeScript(backend, db.url, `${backend === 'sqlite' ? 'PRAGMA foreign_keys = ON; ' : ''}DELETE FROM "Account" WHERE "id" = '${owner.id}'`);
    t.is((await a.bindings.byId(keep.id))?.accountId, null);
    const final = await countsMatch(t, db, a, "the account's deletion");
    t.true((final.active ?? 0) > 0, 'bindings remain to be counted');
  });

  test('the migration counts the bindings already there, and its triggers count from then on', async (t) => {
    const db = await freshStorage(backend, t);
    const s = db.storage;
    for (const state of ['pending', 'pending', 'active', 'failed', 'revoked', 'active', 'active'] as const) {
      const created = (await s.bindings.create(newBinding()))!;
      if (state !== 'pending') await runRound(s, { kind: 'transition', ids: [created.id], from: 'pending', to: [state] });
    }
    // As before the migration: no counters, no triggers; then the migration's own file, run as Prisma runs it.
    await executeScript(backend, db.url, backend === 'sqlite'
      ? 'DROP TRIGGER "Binding_count_insert"; DROP TRIGGER "Binding_count_update"; DROP TRIGGER "Binding_count_delete"; DROP TABLE "BindingStateCount";'
      : 'DROP TABLE "BindingStateCount"; DROP FUNCTION "binding_state_count_add"() CASCADE; DROP FUNCTION "binding_state_count_clear"() CASCADE;');
    await executeScript(backend, db.url, readFileSync(fileURLToPath(new URL(`../../prisma/${backend}/migrations/${MIGRATION}/migration.sql`, import.meta.url)), 'utf8'));
    t.deepEqual(await countsMatch(t, db, s, 'the migration'), { pending: 2, active: 3, failed: 1, revoked: 1 });
    const later = (await s.bindings.create(newBinding()))!;
    await runRound(s, { kind: 'transition', ids: [later.id], from: 'pending', to: ['active'] });
    t.deepEqual(await countsMatch(t, db, s, 'a binding written after it'), { pending: 2, active: 4, failed: 1, revoked: 1 });
  });
});

