// `npm run bench [-- name ...]`: runs the benchmarks one after another, each in its own process so none warms up or
// slows down another. Names: sign, storm, proxy, webhooks, changes, probes (all by default), and scale (only when named). Benchmarks print figures and ratios against a
// baseline measured in the same run; they assert nothing.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// `scale` runs only when named: it seeds 100,000 bindings per backend and takes minutes.
const benches: Record<string, { script: string; about: string; onlyNamed?: boolean }> = {
  sign: { script: 'bench/sign.ts', about: 'cost per signed request vs a minimal hand-rolled signer' },
  storm: { script: 'bench/activation-storm.ts', about: '200 activations at once: callback latency, time to every request token' },
  flood: { script: 'bench/flood.ts', about: '3,000 junk callbacks at a tarpit while one real merchant activates: its request token within 5 s' }, // issue 13
  proxy: { script: 'bench/proxy.ts', about: 'proxy throughput at concurrency 32: direct, bare pass-through, connector' },
  webhooks: { script: 'bench/webhooks.ts', about: '10,000 events to a receiver failing 20%: delivered/s, creation-to-delivery p99, exactly once in order' },
  scale: { script: 'bench/scale.ts', about: '100 vs 100,000 seeded bindings: background queries and their plans, callback latency, proxy cold/warm, idle memory (SCALE_* to resize)', onlyNamed: true },
  changes: { script: 'bench/changes.ts', about: '100,000 mock orders: store.changes() vs a plain paginate(), entities/s' },
  probes: { script: 'bench/probes.ts', about: '100,000 active bindings: the probe scheduler\'s database cost per minute, spread of due times, query plans' },
};

const [first, ...rest] = process.argv.slice(2);
const chosen = first && benches[first] ? [first] : Object.keys(benches).filter((name) => !benches[name]!.onlyNamed);
const args = first && benches[first] ? rest : process.argv.slice(2);
if (first && !benches[first] && !/^\d/.test(first)) {
  console.error(`unknown benchmark "${first}"; choose one of: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
for (const name of chosen) {
  const { script, about } = benches[name]!;
  console.log(`\n== ${name}: ${about}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${root}${script}`, ...(chosen.length === 1 ? args : [])], { stdio: 'inherit', cwd: root });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
