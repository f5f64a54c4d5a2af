// Proxy throughput and latency for one GET at a fixed concurrency, three ways in one run against the same upstream
// (the mock store answering without checking signatures, so the figures measure the proxies):
//   direct       straight to the upstream
//   passthrough  a bare Koa + axios hop: no auth, no database, no signing (the floor of any Node proxy)
//   connector    /api/stores/:id/rest/...: API key, binding lookup, signing, per-store limits
// Each server runs in its own process; the load comes from this one.
//   npm run bench -- proxy [concurrency] [seconds]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Accounts } from '../src/accounts/accounts.js';
import { systemClock } from '../src/clock.js';
import { DEFAULT_DURATIONS, DEFAULT_LIMITS } from '../src/config.js';
import { parseSecretsKey, Sealer } from '../src/secrets/sealer.js';
import { migrate, openStorage } from '../src/storage/db.js';
import { spawnServer } from '../scripts/spawn-instance.js';
import { readFileSync } from 'node:fs';
import { load, type LoadResult } from './load.js';
import { ms, verdict } from './stats.js';

const hidden = (html: string) => Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));

/** CPU time (user + system) a process has used so far, in microseconds, from /proc (Linux). */
function cpuMicros(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}

async function measured(name: string, target: string, pid: number | undefined, o: Parameters<typeof load>[2]): Promise<LoadResult & { cpuPerRequest: number }> {
  const before = cpuMicros(pid);
  const result = await load(name, target, o);
  // Includes the warm-up requests' share; a ratio of two such figures is what matters.
  const total = result.requests * ((o.seconds + o.warmupSeconds) / o.seconds);
  return { ...result, cpuPerRequest: (cpuMicros(pid) - before) / total };
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * A real activation of one mock store (signatures checked) through the connector at `connectorUrl`, then an API key
 * for its account; afterwards the mock stops checking signatures, so the figures measure the proxies.
 */
export async function activateBenchStore(upstreamUrl: string, connectorUrl: string, databaseUrl: string, secretsKey: string, name = 'bench'): Promise<{ bindingId: string; key: string }> {
  // A real activation (signatures checked), then an API key for its account.
  const admin = new URL('/admin/api/integrations', upstreamUrl).href;
  const integration = await json<{ id: number; consumerKey: string }>(
    await fetch(admin, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, callbackUrl: `${connectorUrl}/magento/callback`, identityLinkUrl: `${connectorUrl}/magento/identity` }) }),
  );
  const { popupUrl } = await json<{ popupUrl: string }>(await fetch(`${admin}/${integration.id}/activate`, { method: 'POST' }));
  const popup = await fetch(popupUrl);
  const cookie = popup.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const signup = await fetch(`${connectorUrl}/magento/identity/signup`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ ...hidden(await popup.text()), confirm_store: 'yes', email: `${name}@example.com`, password: 'benchmark password' }).toString(),
  });
  if (signup.status !== 302) throw new Error(`activation failed: ${signup.status} ${await signup.text()}`);
  const storage = await openStorage({ databaseUrl, sealer: new Sealer(parseSecretsKey(secretsKey)) });
  const binding = (await storage.bindings.byConsumerKey(integration.consumerKey))!;
  const { key } = await new Accounts({ storage, clock: systemClock, durations: DEFAULT_DURATIONS, limits: DEFAULT_LIMITS }).createApiKey(binding.accountId!);
  await storage.close();
  await fetch(new URL('/__mock/signatures', upstreamUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ check: false }) });
  return { bindingId: binding.id, key };
}

export async function proxyBench(concurrency = 32, seconds = 5): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-proxy-'));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `file:${join(dir, 'connector.db')}`;
  const secretsKey = `b1:${randomBytes(32).toString('base64')}`;
  await migrate(databaseUrl);
  const upstream = await spawnServer('bench/upstream.ts');
  const children = [upstream];
  try {
    const [passthrough, connector] = await Promise.all([
      spawnServer('bench/passthrough.ts', { UPSTREAM: upstream.url }, [], process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}/passthrough`] : []),
      spawnServer('scripts/instance.ts', { DATABASE_URL: databaseUrl, SECRETS_KEY: secretsKey, ALLOW_PRIVATE_STORE_URLS: 'true', OPEN_SIGNUP_ACTIVATION: 'true', INSTANCE_SKIP_MIGRATE: 'true', DATA_DIR: dir, INSTANCE_LIMITS: JSON.stringify({ perStoreConcurrency: concurrency }) }, [], process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}/connector`] : []),
    ]);
    children.push(passthrough, connector);

    const { bindingId, key } = await activateBenchStore(upstream.url, connector.url, databaseUrl, secretsKey);

    const path = 'V1/products/24-MB01';
    const o = { concurrency, seconds, warmupSeconds: 1 };
    const results = [
      await measured('direct', `${upstream.url}rest/${path}`, upstream.process.pid, o),
      await measured('passthrough', `${passthrough.url}/rest/${path}`, passthrough.process.pid, o),
      await measured('connector', `${connector.url}/api/stores/${bindingId}/rest/${path}`, connector.process.pid, { ...o, headers: { authorization: `Bearer ${key}` } }),
    ];

    console.log(`proxy: GET ${path}, concurrency ${concurrency}, ${seconds} s each (upstream: mock store, signatures not checked;`);
    console.log(`       the connector's per-store cap is set to ${concurrency} so it measures the proxy, not the cap)`);
    for (const r of results) {
      const cpu = r.name === 'direct' ? 'upstream' : 'proxy';
      console.log(
        `  ${r.name.padEnd(12)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${ms(r.p50).padStart(9)}   p99 ${ms(r.p99).padStart(9)}   ` +
          `${cpu} CPU ${r.cpuPerRequest.toFixed(0).padStart(4)} µs/request   errors ${r.errors}/${r.requests}`,
      );
    }
    const [, bare, ours] = results;
    console.log(`  connector / passthrough: throughput ${(ours!.rps / bare!.rps).toFixed(2)} (target >= 0.80: ${verdict(Number((ours!.rps / bare!.rps).toFixed(2)) >= 0.8)}), p50 +${(ours!.p50 - bare!.p50).toFixed(2)} ms, p99 x${(ours!.p99 / bare!.p99).toFixed(2)}`);
    console.log(`  CPU per proxied request: connector ${(ours!.cpuPerRequest / bare!.cpuPerRequest).toFixed(2)} x the pass-through's (2 cores shared by load generator, upstream and proxy)`);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await proxyBench(Number(process.argv[2] ?? 32), Number(process.argv[3] ?? 5));
}
