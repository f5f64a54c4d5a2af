// The heap's growth (src/heap.ts): the rule as a pure function, and the policy in real processes, counted in full
// GCs for the same allocation: a small heap collected less often than with the fixed 20%, a heap at the budget as
// often.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { loadConfig } from '../../src/config.js';
import { growthPercentFor, HEAP_BUDGET_BYTES, HEAP_GROWTH_FLOOR } from '../../src/heap.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MB = 1024 * 1024;

test('the growth reaches the budget from a small heap, and is never under the floor', (t) => {
  t.is(growthPercentFor(40 * MB, 80 * MB, 20), 100);
  t.is(growthPercentFor(20 * MB, 80 * MB, 20), 300);
  t.is(growthPercentFor(70 * MB, 80 * MB, 20), 20, 'near the budget: the floor');
  t.is(growthPercentFor(200 * MB, 80 * MB, 20), 20, 'past it: the floor');
  t.is(growthPercentFor(0), HEAP_GROWTH_FLOOR);
  t.is(growthPercentFor(HEAP_BUDGET_BYTES / 2), 100);
});

test('HEAP_BUDGET_MB: 64 by default, 0 for V8\'s own growth, negative or fractional refused', (t) => {
  t.is(loadConfig({}).heapBudgetBytes, HEAP_BUDGET_BYTES);
  t.is(HEAP_BUDGET_BYTES, 64 * MB);
  t.is(loadConfig({ HEAP_BUDGET_MB: '128' }).heapBudgetBytes, 128 * MB);
  t.is(loadConfig({ HEAP_BUDGET_MB: '0' }).heapBudgetBytes, 0);
  t.throws(() => loadConfig({ HEAP_BUDGET_MB: '-1' }), { message: /HEAP_BUDGET_MB/ });
  t.throws(() => loadConfig({ HEAP_BUDGET_MB: '1.5' }), { message: /HEAP_BUDGET_MB/ });
});

// Holds `liveMb` of objects, then allocates the same 3,000,000 short-lived ones (each alive long enough to be
// promoted), and prints how many full GCs ran. `policy`: with startHeapPolicy (a budget of `budget` bytes, or its
// default), else with the fixed floor.
const child = (policy: boolean, liveMb: number, budget?: number) => `
import { startHeapPolicy, HEAP_GROWTH_FLOOR } from './src/heap.ts';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
v8.setFlagsFromString('--heap-growing-percent=' + HEAP_GROWTH_FLOOR);
let majors = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++; }).observe({ entryTypes: ['gc'] });
${policy ? `startHeapPolicy(${budget ?? ''});` : ''}
const live = []; while (v8.getHeapStatistics().used_heap_size < ${liveMb} * 1048576) for (let i = 0; i < 10000; i++) live.push({ i, s: 'k' + i });
await new Promise((r) => setTimeout(r, 20));
majors = 0;
const ring = new Array(100000);
for (let i = 0; i < 3e6; i++) { ring[i % 100000] = { i, a: [i, i + 1], s: 'v' + i }; if (i % 50000 === 0) await new Promise((r) => setImmediate(r)); }
await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ majors, live: live.length }));
`;

async function fullGcs(policy: boolean, liveMb: number, budget?: number): Promise<number> {
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, ['--max-semi-space-size=8', '--import', 'tsx', '--input-type=module', '-e', child(policy, liveMb, budget)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`child exited ${code}: ${text}`))));
  });
  return (JSON.parse(out.trim()) as { majors: number }).majors;
}

test('in real processes: a small heap is collected less often than with the fixed floor, one at the budget as often', async (t) => {
  const [small, smallFixed, large, largeFixed] = await Promise.all([fullGcs(true, 20), fullGcs(false, 20), fullGcs(true, 90), fullGcs(false, 90)]);
  t.log(`full GCs for the same allocation: live 20 MB ${small} (fixed ${HEAP_GROWTH_FLOOR}%: ${smallFixed}); live 90 MB ${large} (fixed: ${largeFixed})`);
  t.true(small < smallFixed * 0.75, `small heap: ${small} vs ${smallFixed}`);
  // About as often (the first ones still run with the room the heap had while it was small).
  t.true(large >= largeFixed * 0.6, `heap past the budget: ${large} vs ${largeFixed}`);
});

test('in real processes: a budget of 0 (HEAP_BUDGET_MB=0) hands the growth to V8, which collects a large heap less often', async (t) => {
  const [own, fixed] = await Promise.all([fullGcs(true, 90, 0), fullGcs(false, 90)]);
  t.log(`full GCs for the same allocation at live 90 MB: V8's own growth ${own}, fixed ${HEAP_GROWTH_FLOOR}%: ${fixed}`);
  t.true(own < fixed * 0.75, `V8's growth: ${own} vs ${fixed}`);
});
