// A small OAuth 1.0a signer for the mock store's tests, written from RFC 5849 and independent of both the
// project's signer (src/protocol) and the mock's verifier (src/mock-store). Checked against the signing vectors.
import { createHmac, randomBytes } from 'node:crypto';

/** RFC 3986 percent-encoding (unreserved: A-Z a-z 0-9 - . _ ~). */
export const enc = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

export interface SignInput {
  method: string;
  /** The URL the request goes to; its query is signed unless `queryParams` says otherwise. */
  url: string;
  consumerKey: string;
  consumerSecret: string;
  token?: string;
  tokenSecret?: string;
  verifier?: string;
  signatureMethod?: string;
  timestamp?: number | string;
  nonce?: string;
  /** null leaves oauth_version out. */
  version?: string | null;
  /** Decoded query pairs to sign instead of those parsed from `url`. */
  queryParams?: [string, string][];
  /** Decoded form-body pairs to sign. */
  bodyParams?: [string, string][];
  /** Sign for this authority (host[:port]) instead of the URL's. */
  signedHost?: string;
  /** Order of the encoded `name=value` pairs (default: by name, then value, byte order). */
  compare?: (a: [string, string], b: [string, string]) => number;
  /** Extra oauth_* header parameters (signed). */
  extraOauth?: Record<string, string>;
}

export interface Signed {
  authorization: string;
  base: string;
  signature: string;
  oauth: Record<string, string>;
}

export const freshNonce = (): string => randomBytes(16).toString('hex');

function queryPairs(url: URL): [string, string][] {
  const raw = url.search.replace(/^\?/, '');
  if (!raw) return [];
  return raw.split('&').map((pair) => {
    const i = pair.indexOf('=');
    const name = i === -1 ? pair : pair.slice(0, i);
    const value = i === -1 ? '' : pair.slice(i + 1);
    return [decodeURIComponent(name), decodeURIComponent(value)];
  });
}

/** RFC 5849 3.4.1.2 base string URI: lower-case scheme and host, default port dropped, path as sent. */
export function baseUri(url: URL, signedHost?: string): string {
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const authority = (signedHost ?? url.host).toLowerCase();
  const [host, port] = authority.split(/:(?=\d+$)/);
  const defaultPort = (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443');
  const rawPath = url.href.slice(url.origin.length).replace(/[?#].*$/, '') || '/';
  return `${scheme}://${host}${port && !defaultPort ? `:${port}` : ''}${rawPath}`;
}

const byteOrder = (a: [string, string], b: [string, string]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

export function sign(input: SignInput): Signed {
  const url = new URL(input.url);
  const oauth: Record<string, string> = {
    oauth_consumer_key: input.consumerKey,
    oauth_nonce: input.nonce ?? freshNonce(),
    oauth_signature_method: input.signatureMethod ?? 'HMAC-SHA256',
    oauth_timestamp: String(input.timestamp ?? Math.floor(Date.now() / 1000)),
    ...(input.version === null ? {} : { oauth_version: input.version ?? '1.0' }),
    ...(input.token !== undefined ? { oauth_token: input.token } : {}),
    ...(input.verifier !== undefined ? { oauth_verifier: input.verifier } : {}),
    ...(input.extraOauth ?? {}),
  };
  const pairs: [string, string][] = [
    ...Object.entries(oauth),
    ...(input.queryParams ?? queryPairs(url)),
    ...(input.bodyParams ?? []),
  ].map(([k, v]) => [enc(k), enc(v)]);
  pairs.sort(input.compare ?? byteOrder);
  const params = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const base = [input.method.toUpperCase(), enc(baseUri(url, input.signedHost)), enc(params)].join('&');
  const key = `${enc(input.consumerSecret)}&${enc(input.tokenSecret ?? '')}`;
  const algorithm = (oauth.oauth_signature_method!.split('-')[1] ?? 'SHA256').toLowerCase();
  const signature = createHmac(algorithm, key).update(base).digest('base64');
  const header = Object.entries({ ...oauth, oauth_signature: signature })
    .map(([k, v]) => `${enc(k)}="${enc(v)}"`)
    .join(',');
  return { authorization: `OAuth ${header}`, base, signature, oauth: { ...oauth, oauth_signature: signature } };
}
