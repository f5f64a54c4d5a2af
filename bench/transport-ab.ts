// In-process A/B of the transport's CPU per call: another checkout's createTransport (BASE=<dir>, e.g. an unpacked
// `git archive` of the commit before a change, node_modules linked) against this one's, in interleaved rounds in one
// process against a local server, so that the machine's load weighs on both alike (the same code twice reads
// 0.98-1.02). Counts the server's share too, alike for both.
//   BASE=<dir> node --import tsx bench/transport-ab.ts [rounds] [requests per round]
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { createTransport } from '../src/protocol/transport.js';

const base = process.env.BASE;
if (!base) throw new Error('BASE=<dir of the other checkout>');
const { createTransport: createBase } = (await import(pathToFileURL(`${base}/src/protocol/transport.ts`).href)) as { createTransport: typeof createTransport };
const [rounds, perRound] = [Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 2000)];

// An answer the size of the proxy bench's product.
const body = Buffer.from(JSON.stringify({ id: 1, sku: '24-MB01', name: 'Joust Duffle Bag', price: 34, description: 'x'.repeat(800) }));
const server = http.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/rest/V1/products/24-MB01`;
const options = { allowPrivate: true, connectTimeoutMs: 5_000, totalTimeoutMs: 30_000, maxResponseBytes: 1 << 24 };
const sides = { base: createBase(options), this: createTransport(options) };
// The headers a signed GET carries.
const headers = {
  Accept: 'application/json',
  Authorization: 'OAuth oauth_consumer_key="abcdefghijklmnopqrstuvwxyz012345", oauth_nonce="abcdefghijklmnopqrstuvwxyz012345", oauth_signature="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG%3D", oauth_signature_method="HMAC-SHA256", oauth_timestamp="1700000000", oauth_token="abcdefghijklmnopqrstuvwxyz012345", oauth_version="1.0"',
};

/** CPU (user + system) of `n` calls, 32 at a time, each with a caller's signal as the proxy passes one. */
async function cpuOf(transport: (typeof sides)['base'], n: number): Promise<number> {
  const before = process.cpuUsage();
  let left = n;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (left-- > 0) await transport.request({ method: 'GET', url, headers, signal: new AbortController().signal });
    }),
  );
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

for (const side of Object.values(sides)) await cpuOf(side, 3_000); // warm-up, not counted
const sum = { base: 0, this: 0 };
for (let r = 0; r < rounds; r++) {
  for (const name of (r % 2 ? ['this', 'base'] : ['base', 'this']) as Array<keyof typeof sides>) sum[name] += await cpuOf(sides[name], perRound);
}
const calls = rounds * perRound;
console.log(`transport (+ local server) CPU per call: base ${(sum.base / calls).toFixed(1)} µs, this ${(sum.this / calls).toFixed(1)} µs, this/base ${(sum.this / sum.base).toFixed(3)}`);
for (const side of Object.values(sides)) side.close();
server.close();
