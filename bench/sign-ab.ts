// In-process A/B of the signer's CPU per signature for the proxy bench's call (GET V1/products/24-MB01, no query):
// another checkout's createSigner (BASE=<dir>, e.g. an unpacked `git archive` of the commit before a change) against
// this one's, in interleaved rounds in one process, so that the machine's load weighs on both alike.
//   BASE=<dir> node --import tsx bench/sign-ab.ts [rounds] [signatures per round]
import { pathToFileURL } from 'node:url';
import { createSigner } from '../src/protocol/signer.js';

const base = process.env.BASE;
if (!base) throw new Error('BASE=<dir of the other checkout>');
const { createSigner: createBase } = (await import(pathToFileURL(`${base}/src/protocol/signer.ts`).href)) as { createSigner: typeof createSigner };
const [rounds, perRound] = [Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 20_000)];
const consumer = { key: 'ck0000000000000000000000000000a1', secret: 'cs0000000000000000000000000000b2' };
const token = { key: 'at0000000000000000000000000000c3', secret: 'as0000000000000000000000000000d4' };
const request = { method: 'GET', url: 'http://127.0.0.1:8080/rest/V1/products/24-MB01', query: [] };
const sides = { base: createBase(consumer), this: createSigner(consumer) };

function cpuOf(signer: (typeof sides)['base'], n: number): number {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) signer.sign(request, token);
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

for (const side of Object.values(sides)) cpuOf(side, perRound); // warm-up, not counted
const sum = { base: 0, this: 0 };
for (let r = 0; r < rounds; r++) {
  for (const name of (r % 2 ? ['this', 'base'] : ['base', 'this']) as Array<keyof typeof sides>) sum[name] += cpuOf(sides[name], perRound);
}
const n = rounds * perRound;
console.log(`signature CPU: base ${(sum.base / n).toFixed(2)} µs, this ${(sum.this / n).toFixed(2)} µs, this/base ${(sum.this / sum.base).toFixed(3)}`);
