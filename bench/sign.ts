// Cost of signing one REST GET with a nested searchCriteria: our signer (oauth-1.0a underneath, both Magento orders
// checked) next to a minimal hand-rolled signer doing the same work (nonce, timestamp, PHP-style query from the nested
// object, URL normalisation, sort, HMAC-SHA256, header) in the same run. Target: ratio <= 2. Prints, never asserts.
import { createHmac, randomBytes } from 'node:crypto';
import { createSigner } from '../src/protocol/signer.js';
import { bench, report } from './lib.js';
import { verdict } from './stats.js';

const consumer = { key: 'ck0000000000000000000000000000a1', secret: 'cs0000000000000000000000000000b2' };
const token = { key: 'at0000000000000000000000000000c3', secret: 'as0000000000000000000000000000d4' };
const url = 'https://shop.example.com/rest/default/V1/products';
const query = {
  searchCriteria: {
    filter_groups: [
      { filters: [{ field: 'sku', value: '24-MB01', condition_type: 'eq' }] },
      { filters: [{ field: 'created_at', value: '2024-10-25 00:00:00', condition_type: 'gt' }] },
      { filters: [{ field: 'name', value: '%bag%', condition_type: 'like' }, { field: 'status', value: 1, condition_type: 'eq' }] },
    ],
    sortOrders: [{ field: 'created_at', direction: 'DESC' }],
    pageSize: 20,
    currentPage: 1,
  },
};

// ---- the minimal hand-rolled signer: no validation, no order check, no library -----------------------------------

const enc = (s: string): string =>
  /^[A-Za-z0-9._~-]*$/.test(s)
    ? s
    : encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function flatten(out: [string, string][], name: string, value: unknown): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(out, name === '' ? k : `${name}[${k}]`, v);
  } else {
    out.push([name, String(value)]);
  }
}

function handRolled(fixed?: { nonce: string; timestamp: number }): { url: string; authorization: string } {
  const nonce = fixed?.nonce ?? randomBytes(16).toString('hex');
  const timestamp = String(fixed?.timestamp ?? Math.floor(Date.now() / 1000));
  const u = new URL(url);
  const base = u.protocol + '//' + u.host + u.pathname;
  const pairs: [string, string][] = [];
  flatten(pairs, '', query);
  const oauth: [string, string][] = [
    ['oauth_consumer_key', consumer.key],
    ['oauth_nonce', nonce],
    ['oauth_signature_method', 'HMAC-SHA256'],
    ['oauth_timestamp', timestamp],
    ['oauth_token', token.key],
    ['oauth_version', '1.0'],
  ];
  const params = oauth.concat(pairs).map(([n, v]) => [enc(n), enc(v)] as const);
  params.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const paramString = params.map(([n, v]) => n + '=' + v).join('&');
  const baseString = 'GET&' + enc(base) + '&' + enc(paramString);
  const signature = createHmac('sha256', enc(consumer.secret) + '&' + enc(token.secret)).update(baseString).digest('base64');
  const authorization =
    'OAuth ' + oauth.concat([['oauth_signature', signature]]).map(([n, v]) => `${n}="${enc(v)}"`).join(', ');
  const sentUrl = base + '?' + pairs.map(([n, v]) => enc(n).replace(/%5B/g, '[').replace(/%5D/g, ']') + '=' + enc(v)).join('&');
  return { url: sentUrl, authorization };
}

// ---- run ---------------------------------------------------------------------------------------------------------

const signer = createSigner(consumer);
const ours = () => signer.sign({ method: 'GET', url, query }, token);

// Both must sign the same thing, or the comparison means nothing.
const fixed = { nonce: 'n0nce0000000000000000000000000e5', timestamp: 1700000000 };
const a = signer.sign({ method: 'GET', url, query, ...fixed }, token);
const b = handRolled(fixed);
const signatureOf = (h: string) => /oauth_signature="([^"]+)"/.exec(h)?.[1];
const same = a.url === b.url && signatureOf(a.authorization) === signatureOf(b.authorization);
console.log(`same URL and signature from both: ${same ? 'yes' : 'NO (the comparison is not fair)'}`);
console.log(`parameters signed: ${a.baseString.split('%26').length}, URL length: ${a.url.length}`);

const iterations = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const baseline = bench('hand-rolled minimal signer', () => handRolled(), { iterations });
const signed = bench('createSigner().sign()', ours, { iterations });
report([baseline, signed]);
const ratio = signed.nsPerOp / baseline.nsPerOp;
console.log(`ratio ours / hand-rolled: ${ratio.toFixed(2)} (target <= 2: ${verdict(Number(ratio.toFixed(2)) <= 2)})`);
