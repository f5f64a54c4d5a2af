// Instructions per proxied GET, counted by valgrind's callgrind: a figure the machine's load does not move (CPU time
// and throughput do, on a shared 2-core VM). The pass-through and the connector each run under callgrind with
// instrumentation off while they start; then, per server: warm-up requests, counters zeroed, a fixed number of
// requests at a fixed concurrency, counters dumped. The load generator and the upstream run natively.
//   node --import tsx bench/proxy-instructions.ts [requests] [concurrency]   (needs valgrind; takes minutes; not in
//   `npm run bench`)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { migrate } from '../src/storage/db.js';
import { announcedUrl, loaderFor, spawnServer } from '../scripts/spawn-instance.js';
import { activateBenchStore } from './proxy.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Grinded {
  url: string;
  process: ChildProcess;
  outPrefix: string;
  stop(): void;
}

async function spawnGrinded(name: string, dir: string, script: string, env: Record<string, string>): Promise<Grinded> {
  const outPrefix = join(dir, `callgrind.${name}`);
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outPrefix}`, process.execPath, ...loaderFor(script), `${root}${script}`], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // valgrind's own lines start with ==pid==; the server's go through.
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (!line.startsWith('==')) console.error(line);
  });
  const url = await announcedUrl(child, `${script} under valgrind`, 300_000);
  return { url, process: child, outPrefix, stop: () => void child.kill('SIGKILL') };
}

const control = (pid: number, ...args: string[]): void => {
  const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')}: ${r.stderr}`);
};

/** `count` GETs, `concurrency` at a time, over keep-alive connections; throws on any non-200. */
async function fixedLoad(target: string, count: number, concurrency: number, headers: Record<string, string>, failed: { count: number }): Promise<void> {
  const url = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let left = count;
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(url, { agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) process.stderr.write(`${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}\n`);
          resolve(res.statusCode ?? 0);
        });
      });
      // A pooled socket the server closed as it was reused (ECONNRESET): counted as a failure and sent again.
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve(0) : reject(err)));
      req.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left--;
        const status = await once();
        // A pooled socket the upstream closed while a slowed-down proxy reused it (ECONNRESET): sent again, and
        // counted in `failed` (a few in a thousand add their error path to the figure).
        if (status !== 200) {
          left++;
          if (++failed.count > 20) throw new Error(`${target}: ${status}`);
        }
      }
    }),
  );
  agent.destroy();
}

/** The instruction count callgrind dumped last for `server`. */
function lastDump(server: Grinded): number {
  const dir = join(server.outPrefix, '..');
  const base = server.outPrefix.slice(dir.length + 1);
  const dumps = readdirSync(dir)
    .filter((f) => f.startsWith(`${base}.`))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  const text = readFileSync(join(dir, dumps[dumps.length - 1]!), 'utf8');
  const summary = /^summary: (\d+)/m.exec(text);
  if (!summary) throw new Error(`no summary in ${dumps[dumps.length - 1]}`);
  return Number(summary[1]);
}

/**
 * Instructions per request, less the server's background work (timers, pollers) over as long a time: valgrind
 * stretches the measured phase some 50-fold, so work driven by the clock would otherwise weigh 50 times its share.
 */
async function instructionsPerRequest(server: Grinded, target: string, o: { requests: number; warmup: number; concurrency: number; headers?: Record<string, string> }): Promise<{ perRequest: number; idlePerRequest: number }> {
  const pid = server.process.pid!;
  control(pid, '--instr=on');
  await fixedLoad(target, o.warmup, o.concurrency, o.headers ?? {}, { count: 0 });
  control(pid, '--zero');
  const failed = { count: 0 };
  const started = performance.now();
  await fixedLoad(target, o.requests, o.concurrency, o.headers ?? {}, failed);
  const elapsed = performance.now() - started;
  control(pid, '--dump');
  const loaded = lastDump(server);
  control(pid, '--zero');
  await new Promise((resolve) => setTimeout(resolve, elapsed));
  control(pid, '--dump');
  const idle = lastDump(server);
  control(pid, '--instr=off');
  if (failed.count) console.log(`  (${failed.count} requests to ${target} failed and were sent again)`);
  return { perRequest: (loaded - idle) / o.requests, idlePerRequest: idle / o.requests };
}

export async function proxyInstructions(requests = 1000, concurrency = 32): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-instr-'));
  const databaseUrl = `file:${join(dir, 'connector.db')}`;
  const secretsKey = `b1:${randomBytes(32).toString('base64')}`;
  await migrate(databaseUrl);
  const upstream = await spawnServer('bench/upstream.ts', { MOCK_CALLBACK_TIMEOUT_MS: '120000', MOCK_KEEP_ALIVE_MS: '600000' });
  const grinded: Grinded[] = [];
  try {
    const [passthrough, connector] = await Promise.all([
      spawnGrinded('passthrough', dir, 'bench/passthrough.ts', { UPSTREAM: upstream.url }),
      spawnGrinded('connector', dir, 'scripts/instance.mjs', { DATABASE_URL: databaseUrl, SECRETS_KEY: secretsKey, ALLOW_PRIVATE_STORE_URLS: 'true', OPEN_SIGNUP_ACTIVATION: 'true', INSTANCE_SKIP_MIGRATE: 'true', DATA_DIR: dir, INSTANCE_LIMITS: JSON.stringify({ perStoreConcurrency: concurrency }) }),
    ]);
    grinded.push(passthrough, connector);
    // Under valgrind the connector's first answers are slow (code loaded on first use) and the mock store gives a
    // callback 5 s, as Magento does: a failed activation is simply made again with a new integration.
    let activated: Awaited<ReturnType<typeof activateBenchStore>> | undefined;
    for (let attempt = 1; !activated; attempt++) {
      try {
        activated = await activateBenchStore(upstream.url, connector.url, databaseUrl, secretsKey, `bench${attempt}`);
      } catch (err) {
        if (attempt >= 5) throw err;
      }
    }
    const { bindingId, key } = activated;
    const path = 'V1/products/24-MB01';
    const o = { requests, warmup: Number(process.env.BENCH_WARMUP ?? Math.max(200, requests / 2)), concurrency };
    const bare = await instructionsPerRequest(passthrough, `${passthrough.url}/rest/${path}`, o);
    const ours = await instructionsPerRequest(connector, `${connector.url}/api/stores/${bindingId}/rest/${path}`, { ...o, headers: { authorization: `Bearer ${key}` } });
    const k = (v: number) => `${(v / 1000).toFixed(0)}k`;
    console.log(`proxy instructions: GET ${path}, ${requests} requests at concurrency ${concurrency} (after ${o.warmup} warm-up), callgrind`);
    console.log(`  passthrough ${k(bare.perRequest).padStart(7)} instructions/request   (idle over as long: ${k(bare.idlePerRequest)} per request, subtracted)`);
    console.log(`  connector   ${k(ours.perRequest).padStart(7)} instructions/request   (idle over as long: ${k(ours.idlePerRequest)} per request, subtracted)`);
    console.log(`  connector / passthrough: ${(ours.perRequest / bare.perRequest).toFixed(3)} (user-space instructions; the CPU target <= 1.25 also counts the kernel's share, alike for both)`);
  } finally {
    for (const g of grinded) g.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await proxyInstructions(Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 32));
}
