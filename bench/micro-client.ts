// The client side of a proxied GET alone, in-process, 32 at a time, against the mock store in its own process: a
// plain axios call, our transport, our signed REST client. CPU per request, or instructions under callgrind:
//   node --import tsx bench/micro-client.ts [N] [axios,transport,rest]
//   GRIND_OUT=/tmp/cg/out valgrind --tool=callgrind --callgrind-out-file=/tmp/cg/out node --import tsx bench/micro-client.ts 300
// (--instr-atstart=no gave no counts here: leave instrumentation on from the start.)
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import axios from 'axios';
import { spawnServer } from '../scripts/spawn-instance.js';
import { createTransport } from '../src/protocol/transport.js';
import { createRestClient } from '../src/protocol/rest-client.js';
import { DEFAULT_LIMITS } from '../src/config.js';

const run = promisify(execFile);
const grind = process.env.GRIND_OUT;
const control = async (...a: string[]): Promise<void> => {
  if (grind) await run('callgrind_control', [...a, String(process.pid)]);
};
const upstream = await spawnServer('bench/upstream.ts');
await fetch(new URL('/__mock/signatures', upstream.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ check: false }) });
const N = Number(process.argv[2] ?? 500);
const C = 32;
const url = `${upstream.url}rest/V1/products/24-MB01`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const plain = axios.create({ httpAgent: agent, proxy: false, maxRedirects: 0, validateStatus: () => true, responseType: 'arraybuffer' });
const transport = createTransport({ allowPrivate: true, connectTimeoutMs: 10_000, totalTimeoutMs: 30_000, maxResponseBytes: DEFAULT_LIMITS.maxResponseBytes });
const rest = createRestClient({ transport, retry: { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1000, retryAfterCapMs: 1000 } });
const store = { storeBaseUrl: upstream.url, consumerKey: 'k'.repeat(32), consumerSecret: 's'.repeat(32), accessToken: { key: 't'.repeat(32), secret: 'u'.repeat(32) } };
const variants: Record<string, () => Promise<unknown>> = {
  axios: () => plain.request({ method: 'GET', url, headers: { accept: 'application/json' } }),
  transport: () => transport.request({ method: 'GET', url, headers: { Accept: 'application/json', Authorization: 'OAuth oauth_consumer_key="kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", oauth_nonce="abcdefabcdefabcdefabcdefabcdefab", oauth_signature="abcdefabcdefabcdefabcdefabcdefabcdefabcdefab", oauth_signature_method="HMAC-SHA256", oauth_timestamp="1764590000", oauth_token="tttttttttttttttttttttttttttttttt", oauth_version="1.0"' }, signal: new AbortController().signal }),
  rest: () => rest.send(store, { method: 'GET', path: 'V1/products/24-MB01', query: [], accept: 'application/json', signal: new AbortController().signal }),
};
const pool = async (fn: () => Promise<unknown>, n: number) => {
  let left = n;
  await Promise.all(Array.from({ length: C }, async () => { while (left-- > 0) await fn(); }));
};
const results: Record<string, number> = {};
const only = process.argv[3]?.split(',');
for (const [name, fn] of Object.entries(variants)) {
  if (only && !only.includes(name)) continue;
  await control('-i', 'on');
  await pool(fn, N); // warm-up
  await control('-z');
  const c0 = process.cpuUsage();
  await pool(fn, N);
  const c = process.cpuUsage(c0);
  await control('-d');
  if (grind) {
    const base = grind.split('/').pop()!;
    const dumps = readdirSync(join(grind, '..')).filter((f) => f.startsWith(base + '.')).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
    results[name] = Math.round(Number(/^summary: (\d+)/m.exec(readFileSync(join(grind, '..', dumps.at(-1)!), 'utf8'))![1]) / N);
  } else results[name] = Math.round((c.user + c.system) / N);
}
console.log(JSON.stringify(results));
transport.close(); agent.destroy();
await upstream.stop();
