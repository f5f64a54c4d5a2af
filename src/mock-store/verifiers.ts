// The three OAuth signature verifiers Magento has shipped (docs/magento-protocol.md §7a), each an independent port of
// that release's code. A verifier is two steps: what Helper\Request::prepareRequest hands the Oauth class, and the
// signature Oauth::_validateSignature computes from it.
//
//  - `laminas` (2.4.4-2.4.7-pN): Helper\Request::prepareRequest (values decoded once) + Laminas\OAuth\Http\Utility::sign
//    -> Laminas\OAuth\Signature\Hmac / AbstractSignature::getBaseSignatureString: names and values rawurlencoded,
//    uksort(strnatcmp) on the ENCODED names, URL through Laminas\Uri::normalize (a `%2F` in a segment is decoded).
//  - `laminas-double-encoding` (2.4.8-beta1): Helper\Request::prepareRequest rawurlencodes every value but
//    oauth_signature, then Helper\Signature\Hmac (extends Laminas's Hmac) encodes them again; its
//    normaliseBaseSignatureUrl uses Helper\Uri\Http::normalizePath, which keeps `%2F`.
//  - `native` (2.4.8 GA and later): the same pre-encoding prepareRequest, then Oauth::processNonRequiredParams
//    urldecodes the values again, then Helper\Signature\Hmac (no Laminas): parse_url for the URL (nothing
//    normalised), parse_str of the query merged in (array_merge), removeNestedArrays, ksort on the RAW names.
import { createHmac } from 'node:crypto';
import { PhpTypeError, prepareRequest, type IncomingRequest, type OauthParams } from './oauth.js';
import { parseStr, rawurlencode, urldecode, type PhpValue } from './php.js';
import { baseSignatureString, hmacSignature, normalizePath, normalizePathKeepingReserved } from './signature.js';

export const VERIFIER_NAMES = ['laminas', 'laminas-double-encoding', 'native'] as const;
export type VerifierName = (typeof VERIFIER_NAMES)[number];

export const isVerifierName = (v: unknown): v is VerifierName =>
  typeof v === 'string' && (VERIFIER_NAMES as readonly string[]).includes(v);

export interface Verifier {
  readonly name: VerifierName;
  /** Helper\Request::prepareRequest of that release: the parameters the Oauth class validates. */
  prepare(req: IncomingRequest): OauthParams;
  /** The signature Oauth::_validateSignature computes for these prepared parameters. */
  signature(params: OauthParams, method: string, url: string, consumerSecret: string, tokenSecret: string | null): string;
}

/** A value where PHP wants a string: an array from parse_str (e.g. a form body `a[b]=1`) is a TypeError. */
const str = (v: PhpValue | undefined): string => {
  if (v !== undefined && typeof v !== 'string') throw new PhpTypeError('string expected, array given');
  return v ?? '';
};

const withoutSignature = (params: OauthParams): Map<string, string> => {
  const out = new Map<string, string>();
  for (const [k, v] of params) if (k !== 'oauth_signature') out.set(k, str(v));
  return out;
};

/** 2.4.8's Helper\Request::prepareRequest: `rawurlencode($value)` for everything but oauth_signature. */
function preEncoded(req: IncomingRequest): OauthParams {
  const params = prepareRequest(req);
  for (const [k, v] of params) if (k !== 'oauth_signature') params.set(k, rawurlencode(str(v)));
  return params;
}

const laminas: Verifier = {
  name: 'laminas',
  prepare: prepareRequest,
  signature(params, method, url, consumerSecret, tokenSecret) {
    const method_ = str(params.get('oauth_signature_method'));
    const base = baseSignatureString(method, url, withoutSignature(params), normalizePath);
    return hmacSignature(method_, base, consumerSecret, tokenSecret);
  },
};

const laminasDoubleEncoding: Verifier = {
  name: 'laminas-double-encoding',
  prepare: preEncoded,
  signature(params, method, url, consumerSecret, tokenSecret) {
    const method_ = str(params.get('oauth_signature_method'));
    const base = baseSignatureString(method, url, withoutSignature(params), normalizePathKeepingReserved);
    return hmacSignature(method_, base, consumerSecret, tokenSecret);
  },
};

/** Oauth::processNonRequiredParams (2.4.8): "Avoid double encoding for query param values". */
const NOT_DECODED = ['oauth_consumer_key', 'oauth_consumer_secret', 'oauth_token', 'oauth_token_secret', 'oauth_signature'];

/** PHP turns a decimal-integer string key into an int key; native Hmac's strict string parameters then throw. */
const isPhpIntKey = (k: string): boolean => /^(0|-?[1-9]\d{0,18})$/.test(k);

const NUMERIC = /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$/;

/** ksort's SORT_REGULAR on string keys (PHP 8 zendi_smart_strcmp): numeric strings by value, others by bytes. */
export function phpSmartStrcmp(a: string, b: string): number {
  if (NUMERIC.test(a) && NUMERIC.test(b)) {
    const x = Number(a.trim());
    const y = Number(b.trim());
    if (x !== y) return x < y ? -1 : 1;
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Helper\Signature\Hmac::buildRequestUrl: parse_url's scheme://host[:port]path, nothing lower-cased or dropped. */
export function nativeRequestUrl(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(url);
  if (!m) return '://'; // parse_url failed: PHP reads nulls and the signature can never match
  const authority = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(m[2]!);
  if (!authority) return '://';
  const port = authority[2];
  if (port !== undefined && port !== '' && Number(port) > 65535) return '://';
  const portPart = port !== undefined && port !== '' ? `:${Number(port)}` : '';
  return `${m[1]}://${authority[1]}${portPart}${m[3]}`;
}

const native: Verifier = {
  name: 'native',
  prepare: preEncoded,
  signature(params, method, url, consumerSecret, tokenSecret) {
    // Oauth::processNonRequiredParams
    const processed = new Map<string, PhpValue>();
    for (const [k, v] of params) processed.set(k, NOT_DECODED.includes(k) ? v : urldecode(str(v)));

    // buildRequestParams: array_merge($parameters, parse_str($query)): later string keys overwrite in place.
    const q = url.indexOf('?');
    const query = q === -1 ? '' : url.slice(q + 1).replace(/#.*$/, '');
    const merged = new Map<string, PhpValue>(processed);
    if (query) for (const [k, v] of parseStr(query)) merged.set(k, v);
    for (const k of merged.keys()) if (isPhpIntKey(k)) throw new PhpTypeError('string expected, int given');

    // removeNestedArrays: parse_str's nested array for `a[b]=..` goes when a flat `a[b]` name is present.
    for (const key of [...merged.keys()]) {
      if (key.includes('[') && key.includes(']')) {
        const baseKey = key.slice(0, key.indexOf('['));
        if (merged.get(baseKey) instanceof Map) merged.delete(baseKey);
      }
    }
    // normalizeParameters: ksort on the raw names; scalars only.
    const pairs: string[] = [];
    for (const key of [...merged.keys()].sort(phpSmartStrcmp)) {
      if (key === 'oauth_signature') continue;
      const value = merged.get(key)!;
      if (typeof value !== 'string') continue; // isValidValue: an array under a name without `[`
      pairs.push(`${rawurlencode(key)}=${rawurlencode(value)}`);
    }
    const base = `${method.toUpperCase()}&${rawurlencode(nativeRequestUrl(url))}&${rawurlencode(pairs.join('&'))}`;
    const algorithm = str(params.get('oauth_signature_method')) === 'HMAC-SHA1' ? 'sha1' : 'sha256';
    const key = `${rawurlencode(consumerSecret)}&${rawurlencode(tokenSecret ?? '')}`;
    return createHmac(algorithm, Buffer.from(key, 'latin1')).update(Buffer.from(base, 'latin1')).digest('base64');
  },
};

export const VERIFIERS: Record<VerifierName, Verifier> = {
  laminas,
  'laminas-double-encoding': laminasDoubleEncoding,
  native,
};

/** Which Magento releases run each verifier, for messages and the admin page. */
export const VERIFIER_RELEASES: Record<VerifierName, string> = {
  laminas: '2.4.4 - 2.4.7-pN',
  'laminas-double-encoding': '2.4.8-beta1',
  native: '2.4.8 and later',
};
