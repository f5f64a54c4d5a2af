// The callback path's storage steps one at a time, sequentially, on a fresh SQLite database: CPU time per step, or
// instructions per step under callgrind (a figure the machine's load does not move):
//   node --import tsx bench/micro-callback.ts [N]
//   GRIND_OUT=/tmp/cg/out valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg/out \
//     node --import tsx bench/micro-callback.ts [N]
// Steps: create (the callback's binding insert, two seals), record (a timeline event + trim), recordFirst (the
// callback's first event: no trim), byId (a binding read through Prisma; not under callgrind, it is slow).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseSecretsKey, Sealer } from '../src/secrets/sealer.js';
import { migrate, openStorage } from '../src/storage/db.js';

const run = promisify(execFile);
const grind = process.env.GRIND_OUT; // callgrind out prefix
const control = async (...a: string[]): Promise<void> => {
  if (grind) await run('callgrind_control', [...a, String(process.pid)]);
};
const dir = mkdtempSync(join(tmpdir(), 'micro-'));
const databaseUrl = `file:${join(dir, 'c.db')}`;
await migrate(databaseUrl);
const storage = await openStorage({ databaseUrl, sealer: new Sealer(parseSecretsKey(`b1:${randomBytes(32).toString('base64')}`)) });
const N = Number(process.argv[2] ?? 200);
const ids: string[] = [];
let k = 0;
const ops: Record<string, (i: number) => Promise<unknown>> = {
  create: async () => {
    const id = randomUUID(); ids.push(id);
    const now = new Date();
    return storage.bindings.create({ id, consumerKey: `key-${k++}`.padEnd(32, 'a'), storeBaseUrl: 'http://127.0.0.1:8080/', state: 'pending', consumerSecret: 's'.repeat(32), verifier: 'v'.repeat(32), callbackAt: now, nextAttemptAt: now });
  },
  record: async (i) => storage.bindingEvents.record({ bindingId: ids[ids.length - 1 - i]!, at: new Date(), kind: 'callback_received', detail: 'callback received from http://127.0.0.1:8080/: new binding' }, { keep: 50 }),
  recordFirst: async (i) => storage.bindingEvents.record({ bindingId: ids[ids.length - 1 - i]!, at: new Date(), kind: 'callback_received', detail: 'callback received from http://127.0.0.1:8080/: new binding' }, { keep: 50, first: true }),
  byId: async (i) => storage.bindings.byId(ids[ids.length - 1 - i]!),
};
const results: Record<string, number> = {};
await control('-i', 'on');
for (const [name, fn] of Object.entries(ops)) {
  if (grind && name === 'byId') continue;
  for (let i = 0; i < N; i++) await fn(i); // warm-up
  await control('-z');
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await fn(i);
  const c = process.cpuUsage(c0);
  await control('-d');
  if (grind) {
    const base = grind.split('/').pop()!;
    const dumps = readdirSync(join(grind, '..')).filter((f) => f.startsWith(base + '.')).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
    results[name] = Number(/^summary: (\d+)/m.exec(readFileSync(join(grind, '..', dumps.at(-1)!), 'utf8'))![1]) / N;
  } else results[name] = (c.user + c.system) / N;
}
console.log(JSON.stringify(results));
await storage.close();
