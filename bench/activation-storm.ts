// Activation storm: N merchants click Activate at the same moment. The mock store (this process) posts N callbacks
// to a connector (its own process, SQLite or BENCH_DATABASE_URL); we measure how fast the connector answers them
// (Magento gives up after 5 s) and how long until it holds every request token (Magento's window is 300 s).
//   npm run bench -- storm [N]        (N = 200 by default)
// The headline burst goes through the accounts' own Callback URLs (the default deployment, issue 13): N integrations
// over STORM_ACCOUNTS accounts (N / 10 by default). A second burst of N goes through the shared /magento/callback
// (OPEN_SIGNUP_ACTIVATION=true) on the same, now warm, process (STORM_SHARED=false skips it).
// STORM_WORKERS=2 runs the connector as `npm start` does with WORKERS=2 (CPU summed over its workers).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openServices } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createMockStore } from '../src/mock-store/app.js';
import { migrate } from '../src/storage/db.js';
import { freePort, spawnServer, stopChild } from '../scripts/spawn-instance.js';
import { ms, summary, verdict } from './stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** CPU time (user + system) a process has used so far, in microseconds, from /proc (Linux); NaN elsewhere. */
function cpuMicros(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}

interface Connector {
  url: string;
  /** The server processes (the workers with WORKERS > 1). */
  serverPids(): number[];
  stop(): Promise<void>;
}

/** With WORKERS > 1: `src/main.ts` as `npm start` runs it (its primary forks the workers). */
async function startClustered(env: Record<string, string>, workers: number, dir: string, nodeArgs: string[]): Promise<Connector> {
  const logFile = join(dir, 'connector.log');
  const out = openSync(logFile, 'w');
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', `${root}src/main.ts`], {
    cwd: root,
    env: { ...process.env, ...env, HOST: '127.0.0.1', WORKERS: String(workers), LOG_FORMAT: 'json', LOG_LEVEL: 'warn' },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  // The workers' "worker listening" lines (warn level hides them): read the port from the primary's children.
  const deadline = Date.now() + 120_000;
  const children = () => {
    try {
      return readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const url = `http://127.0.0.1:${env.PORT}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the connector exited (${child.exitCode}):\n${readFileSync(logFile, 'utf8')}`);
    if (Date.now() > deadline) throw new Error('the connector did not start within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Up once every worker answers: the health check through the shared port reaches one of them at random.
    if (children().length === workers && (await fetch(`${url}/healthz`).then((r) => r.ok, () => false))) break;
  }
  // The primary starts the other workers once the first listens: wait until their start-up CPU has settled.
  for (let last = -1; ; ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = children().reduce((sum, pid) => sum + cpuMicros(pid), 0);
    if (children().length === workers && now - last < 20_000) break;
    if (Date.now() > deadline) throw new Error('the workers did not settle within 120 s');
    last = now;
  }
  return {
    url,
    serverPids: children,
    stop: () => stopChild(child, 15_000),
  };
}


export async function activationStorm(n = 200): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-storm-'));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `file:${join(dir, 'connector.db')}`;
  const workers = Number(process.env.STORM_WORKERS ?? 1);
  const accountCount = Math.max(1, Number(process.env.STORM_ACCOUNTS ?? Math.ceil(n / 10)));
  const withShared = process.env.STORM_SHARED !== 'false';
  const profile = [...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}/storm`] : []), ...(process.env.STORM_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
  const env = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dir,
    ALLOW_PRIVATE_STORE_URLS: 'true',
    OPEN_SIGNUP_ACTIVATION: 'true',
    // One mock store sends every callback from 127.0.0.1, where Magento's would come from N addresses: the
    // per-address limit is raised (still counted: its statement runs); the per-account limits are the defaults.
    CALLBACK_RATE_PER_ADDRESS: '1000000',
  };
  // The schema and the accounts first, written through the real services on the same database and key file.
  await migrate(databaseUrl);
  const services = await openServices(loadConfig({ ...process.env, ...env, LOG_LEVEL: 'silent' }));
  const tokens: string[] = [];
  for (let i = 0; i < accountCount; i++) {
    const account = await services.accounts.signUp(`storm-${i}@example.com`, 'storm bench password');
    const urls = await services.activation.activationUrls(account.id, 'http://connector.invalid');
    tokens.push(urls.callbackUrl.split('/').pop()!);
  }
  await services.close();

  let connector: Connector;
  if (workers > 1) {
    const port = await freePort();
    connector = await startClustered({ ...env, PORT: String(port) }, workers, dir, profile);
  } else {
    const child = await spawnServer('scripts/instance.mjs', { ...env, INSTANCE_SKIP_MIGRATE: 'true' }, [], profile);
    connector = { url: child.url, serverPids: () => [child.process.pid!], stop: () => child.stop() };
  }
  const mock = createMockStore({ testMode: true });
  await mock.start(0);
  const where = databaseUrl.startsWith('file:') ? 'SQLite' : 'PostgreSQL';
  console.log(`activation storm: ${n} activations at once (connector on ${where}, WORKERS=${workers})`);
  try {
    await burst(`through the accounts' own Callback URLs (${accountCount} accounts)`, (i) => `${connector.url}/magento/callback/${tokens[i % tokens.length]}`);
    if (withShared) await burst('through the shared /magento/callback (open sign-up; the process is warm now)', () => `${connector.url}/magento/callback`, 'shared');
  } finally {
    await mock.close();
    await connector.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  async function burst(label: string, callbackUrl: (i: number) => string, prefix = 'account'): Promise<void> {
    const integrations = Array.from({ length: n }, (_, i) =>
      mock.admin.create({ name: `storm ${prefix} ${i}`, callbackUrl: callbackUrl(i), identityLinkUrl: `${connector.url}/magento/identity` }),
    );
    const requestsBefore = mock.knobs.requests().length;
    const cpu = () => connector.serverPids().reduce((sum, pid) => sum + cpuMicros(pid), 0);
    const cpuBefore = cpu();
    const started = performance.now();
    const results = await Promise.all(
      integrations.map(async (integration) => {
        const t0 = performance.now();
        const result = await mock.admin.activate(integration.id);
        return { ms: performance.now() - t0, ok: result.callback?.ok === true, answeredAt: Date.now() };
      }),
    );
    const callbacksDone = performance.now() - started;
    // The connector's CPU while it answered the callbacks (request-token fetches wait for a pause in the burst): a
    // figure the machine's other load moves far less than latency.
    const cpuPerCallback = (cpu() - cpuBefore) / n;
    const failedCallbacks = results.filter((r) => !r.ok).length;

    // Every request token held: Magento's token row turns from verifier to request.
    const deadline = performance.now() + 120_000;
    let held = 0;
    while (performance.now() < deadline) {
      held = integrations.filter((i) => mock.admin.get(i.id).tokens.some((row) => row.type === 'request')).length;
      if (held === n) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const allHeld = performance.now() - started;
    // Everything an activation costs the connector up to its request token: callback, claim, token call, writes.
    const cpuPerActivation = (cpu() - cpuBefore) / n;
    const requestCalls = mock.knobs.requests().slice(requestsBefore).filter((r) => r.path.endsWith('/oauth/token/request'));
    const refused = requestCalls.filter((r) => r.status !== 200).length;
    // Request-token fetches started before the burst's last answer took the event loop from it (the mock's clock is
    // this process's, not moved in this bench).
    const lastAnswer = Math.max(...results.map((r) => r.answeredAt));
    const early = requestCalls.filter((r) => Date.parse(r.at) < lastAnswer).length;

    const s = summary(results.map((r) => r.ms));
    console.log(` ${label}`);
    console.log(`  callback latency   p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  max ${ms(s.max)}   (target p99 < 250 ms: ${verdict(s.p99 < 250)}; Magento gives up at 5000 ms)`);
    console.log(`  all callbacks answered after ${ms(callbacksDone)}; connector CPU ${(cpuPerCallback / 1000).toFixed(2)} ms per callback`);
    console.log(`  request tokens held: ${held}/${n} after ${(allHeld / 1000).toFixed(2)} s   (target < 30 s: ${verdict(held === n && allHeld < 30_000)}; Magento's window is 300 s)`);
    console.log(`  connector CPU ${(cpuPerActivation / 1000).toFixed(2)} ms per activation, callback to request token held`);
    console.log(`  request-token calls ${requestCalls.length} (${refused} refused; ${early} while callbacks were still unanswered)   failed callbacks ${failedCallbacks}   missing tokens ${n - held}`);
    console.log(`  failures: ${failedCallbacks + (n - held)}   (target 0: ${verdict(failedCallbacks + (n - held) === 0)})`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await activationStorm(Number(process.argv[2] ?? 200));
}
