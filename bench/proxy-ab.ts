// A/B of the proxy's CPU per request: the pass-through, this checkout's connector and another checkout's connector
// (BASE=<dir>, e.g. an unpacked `git archive` of the commit before a change, with node_modules linked), against one
// upstream, in interleaved rounds so that a machine shared with other work weighs on each side alike.
//   node --import tsx bench/proxy-ab.ts [rounds] [seconds] [concurrency]
//   SIMULTANEOUS=1: each round loads the three at once (steadier on a VM whose speed drifts within seconds; each
//   process gets less of the machine, so compare ratios, not µs, with the sequential mode)
//   THIS_NODE_ARGS / BASE_NODE_ARGS: node flags for one side (BASE=. compares flags on the same code)
//   THIS_NPM_START=1 / BASE_NPM_START=1: that side with npm start's memory settings (its node options and environment
//   from package.json, and src/heap.ts's growth policy), which the instances here otherwise run without
//   THIS_ENV / BASE_ENV: `NAME=value ...` in one side's environment (e.g. BASE_ENV=HEAP_BUDGET_MB=0)
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { migrate } from '../src/storage/db.js';
import { announcedUrl, loaderFor, spawnServer, type Child } from '../scripts/spawn-instance.js';
import { activateBenchStore } from './proxy.js';
import { load } from './load.js';
import { startCommand } from './connector.js';

/** User and system CPU time a process has used so far, in microseconds (/proc, Linux). */
function cpuTimes(pid: number | undefined): { user: number; sys: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: (Number(fields[11]) * 1e6) / 100, sys: (Number(fields[12]) * 1e6) / 100 };
}

async function spawnAt(dir: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Child> {
  // A base from before scripts/instance.mjs has the TypeScript one, run through tsx: its esbuild __name wrappers
  // cost more per call than the compiled copy does, which biases the comparison.
  const compiled = existsSync(`${dir}/scripts/instance.mjs`);
  const script = compiled ? `${dir}/scripts/instance.mjs` : `${dir}/scripts/instance.ts`;
  if (!compiled) {
    console.error(`${dir} has no scripts/instance.mjs: it runs through tsx and reads costlier than compiled code; copy this checkout's scripts/compiled.mjs and scripts/instance.mjs into it for a fair comparison`);
  }
  const child = spawn(process.execPath, [...nodeArgs, ...loaderFor(script), script], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await announcedUrl(child, script, 120_000);
  return { url, process: child, stop: async () => void child.kill('SIGTERM') };
}

const [rounds, seconds, concurrency] = [Number(process.argv[2] ?? 4), Number(process.argv[3] ?? 3), Number(process.argv[4] ?? 32)];
const base = process.env.BASE;
if (!base) throw new Error('BASE=<dir of the other checkout>');
const dir = mkdtempSync(join(tmpdir(), 'bench-ab-'));
const upstream = await spawnServer('bench/upstream.ts');
const passthrough = await spawnServer('bench/passthrough.ts', { UPSTREAM: upstream.url });
const sides: Array<{ name: string; child: Child; target: string; key: string }> = [];
try {
  for (const [name, at] of [['base', base], ['this', process.cwd()]] as const) {
    const databaseUrl = `file:${join(dir, `${name}.db`)}`;
    const secretsKey = `b1:${randomBytes(32).toString('base64')}`;
    await migrate(databaseUrl);
    // THIS_NODE_ARGS, BASE_NODE_ARGS: node flags for one side's connector (e.g. a V8 setting to compare; BASE=. for
    // the same code on both sides).
    const side = name.toUpperCase();
    const nodeArgs = (process.env[`${side}_NODE_ARGS`] ?? '').split(' ').filter(Boolean);
    const start: { flags: string[]; env: Record<string, string> } = { flags: [], env: {} };
    // THIS_ENV, BASE_ENV: `NAME=value ...` for one side's connector (e.g. HEAP_BUDGET_MB=0 on one side only).
    const envText = process.env[`${side}_ENV`] ?? '';
    const sideEnv = Object.fromEntries(envText.split(' ').filter(Boolean).map((kv) => { const at = kv.indexOf('='); return [kv.slice(0, at), kv.slice(at + 1)]; }));
    if (process.env[`${side}_NPM_START`] === '1') {
      Object.assign(start, startCommand(at));
      start.env.INSTANCE_HEAP_POLICY = 'true';
      const instance = `${at}/scripts/instance.mjs`;
      if (!existsSync(instance) || !readFileSync(instance, 'utf8').includes('INSTANCE_HEAP_POLICY')) {
        console.error(`${instance} does not know INSTANCE_HEAP_POLICY: that side runs without the growth policy`);
      }
      console.log(`${name}: as npm start (${[...start.flags, ...Object.entries(start.env).map(([k, v]) => `${k}=${v}`)].join(' ')})`);
    }
    if (envText) console.log(`${name}: ${envText}`);
    const child = await spawnAt(at, { ...start.env, ...sideEnv, DATABASE_URL: databaseUrl, SECRETS_KEY: secretsKey, ALLOW_PRIVATE_STORE_URLS: 'true', OPEN_SIGNUP_ACTIVATION: 'true', INSTANCE_SKIP_MIGRATE: 'true', DATA_DIR: dir, INSTANCE_LIMITS: JSON.stringify({ perStoreConcurrency: concurrency }) }, [...start.flags, ...nodeArgs]);
    // The mock checks signatures again for the activation, then stops.
    await fetch(new URL('/__mock/signatures', upstream.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ check: true }) });
    const { bindingId, key } = await activateBenchStore(upstream.url, child.url, databaseUrl, secretsKey, `ab-${name}`);
    const target = `${child.url}/api/stores/${bindingId}/rest/V1/products/24-MB01`;
    const probe = await fetch(target, { headers: { authorization: `Bearer ${key}` } });
    if (probe.status !== 200) throw new Error(`${name}: ${probe.status} ${await probe.text()}`);
    sides.push({ name, child, target, key });
  }
  const path = 'V1/products/24-MB01';
  const all = [{ name: 'passthrough', pid: passthrough.process.pid, target: `${passthrough.url}/rest/${path}`, headers: {} }, ...sides.map((s) => ({ name: s.name, pid: s.child.process.pid, target: s.target, headers: { authorization: `Bearer ${s.key}` } }))];
  // A first pass, not counted: every process's code optimised before the rounds compare them.
  for (const s of all) await load(s.name, s.target, { concurrency, seconds: 2, warmupSeconds: 0, headers: s.headers });
  const sums = new Map<string, { cpu: number; sys: number; requests: number; rps: number }>();
  // SIMULTANEOUS=1: the three loaded at the same time in each round (each its own load at `concurrency`), so that the
  // VM's speed, which drifts within seconds, is the same for all three; otherwise one after the other.
  const simultaneous = process.env.SIMULTANEOUS === '1';
  const measure = async (s: (typeof all)[number]) => {
    const before = cpuTimes(s.pid);
    const result = await load(s.name, s.target, { concurrency, seconds, warmupSeconds: 0.5, headers: s.headers });
    return { s, before, after: cpuTimes(s.pid), result };
  };
  console.log(`${rounds} rounds of ${seconds} s, concurrency ${concurrency}, ${simultaneous ? 'the three loaded at once' : 'one after the other'}`);
  for (let r = 0; r < rounds; r++) {
    const line: string[] = [];
    const order = r % 2 ? [...all].reverse() : all;
    const measured: Array<Awaited<ReturnType<typeof measure>>> = [];
    if (simultaneous) measured.push(...(await Promise.all(order.map(measure))));
    else for (const s of order) measured.push(await measure(s));
    for (const { s, before, after, result } of measured) {
      const cpu = after.user - before.user + after.sys - before.sys;
      const sys = after.sys - before.sys;
      const requests = result.requests * ((seconds + 0.5) / seconds);
      const acc = sums.get(s.name) ?? { cpu: 0, sys: 0, requests: 0, rps: 0 };
      acc.cpu += cpu;
      acc.sys += sys;
      acc.requests += requests;
      acc.rps += result.rps;
      sums.set(s.name, acc);
      line.push(`${s.name} ${(cpu / requests).toFixed(0)} µs (sys ${(sys / requests).toFixed(0)}) ${result.rps.toFixed(0)}/s${result.errors ? ` ERR ${result.errors}` : ''}`);
    }
    console.log(`round ${r + 1}: ${line.join('   ')}`);
  }
  const per = (n: string) => sums.get(n)!.cpu / sums.get(n)!.requests;
  const rps = (n: string) => sums.get(n)!.rps / rounds;
  const sysPer = (n: string) => sums.get(n)!.sys / sums.get(n)!.requests;
  console.log(`system CPU per request: passthrough ${sysPer('passthrough').toFixed(0)} µs, base ${sysPer('base').toFixed(0)} µs, this ${sysPer('this').toFixed(0)} µs`);
  console.log(`total: passthrough ${per('passthrough').toFixed(0)} µs, base ${per('base').toFixed(0)} µs (x${(per('base') / per('passthrough')).toFixed(2)}, throughput ${(rps('base') / rps('passthrough')).toFixed(2)}), this ${per('this').toFixed(0)} µs (x${(per('this') / per('passthrough')).toFixed(2)}, throughput ${(rps('this') / rps('passthrough')).toFixed(2)}); this/base CPU ${(per('this') / per('base')).toFixed(3)}`);
} finally {
  for (const s of sides) await s.child.stop();
  await passthrough.stop();
  await upstream.stop();
  rmSync(dir, { recursive: true, force: true });
}
