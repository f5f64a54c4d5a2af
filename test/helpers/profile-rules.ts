// An independent, deliberately small reading of docs/magento-protocol.md §7a: what each Magento verifier computes
// for a request, written from the table and not from src/protocol (nothing here imports it). It covers only what the
// profile vectors need: ASCII names, digit runs without leading zeros, no numeric names, no form bodies.
import { createHmac } from 'node:crypto';

export type Profile = 'laminas' | 'laminas-double-encoding' | 'native' | 'common';
export type Pair = [string, string];

export interface VectorInput {
  method: string;
  /** Scheme, host and path exactly as sent; no query. */
  url: string;
  /** Decoded query pairs, in the order sent. */
  query: Pair[];
  consumer: { key: string; secret: string };
  token: { key: string; secret: string };
  nonce: string;
  timestamp: number;
}

export type Outcome = { url: string; base: string; signature: string } | { refused: 'ambiguous_parameter_order' | 'ambiguous_path' };

/** rawurlencode(): everything but A-Z a-z 0-9 - . _ ~ as %XX. */
export const enc = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

/** Natural order for names whose digit runs have no leading zeros: digit runs by value, everything else by byte. */
function natural(a: string, b: string): number {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const x = chunks(a);
  const y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (/^\d/.test(p) && /^\d/.test(q)) return Number(p) - Number(q);
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

const bytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function outcome(profile: Profile, v: VectorInput): Outcome {
  const oauth: Pair[] = [
    ['oauth_consumer_key', v.consumer.key],
    ['oauth_nonce', v.nonce],
    ['oauth_signature_method', 'HMAC-SHA256'],
    ['oauth_timestamp', String(v.timestamp)],
    ['oauth_token', v.token.key],
    ['oauth_version', '1.0'],
  ];
  const path = new URL(v.url).pathname;
  // laminas: Laminas\Uri::normalize decodes %2F, no signature verifies. common: not every verifier accepts it.
  if (/%2F/i.test(path) && (profile === 'laminas' || profile === 'common')) return { refused: 'ambiguous_path' };

  const all = oauth.concat(v.query);
  // laminas-double-encoding: Helper\Request rawurlencodes query values before Laminas encodes them again.
  const value = (pair: Pair, isQuery: boolean): string =>
    profile === 'laminas-double-encoding' && isQuery ? enc(enc(pair[1])) : enc(pair[1]);
  const encoded = all.map((pair, i) => ({ raw: pair[0], name: enc(pair[0]), value: value(pair, i >= oauth.length) }));

  const byNatural = [...encoded].sort((a, b) => natural(a.name, b.name));
  const byRaw = [...encoded].sort((a, b) => bytes(a.raw, b.raw));
  let order: typeof encoded;
  if (profile === 'native') order = byRaw;
  else if (profile === 'common') {
    if (byNatural.some((p, i) => p !== byRaw[i])) return { refused: 'ambiguous_parameter_order' };
    order = byNatural;
  } else order = byNatural;

  const parameterString = order.map((p) => `${p.name}=${p.value}`).join('&');
  const base = `${v.method}&${enc(v.url)}&${enc(parameterString)}`;
  const key = `${enc(v.consumer.secret)}&${enc(v.token.secret)}`;
  const signature = createHmac('sha256', key).update(base).digest('base64');
  const query = v.query.map(([n, val]) => `${enc(n).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${enc(val)}`).join('&');
  return { url: query === '' ? v.url : `${v.url}?${query}`, base, signature };
}
