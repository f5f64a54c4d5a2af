// OAuth 1.0a signing the way Magento 2 verifies it (HMAC-SHA256 only), for the token endpoints and for REST calls.
//
// The oauth-1.0a package does the OAuth mechanics: the base string `METHOD&enc(url)&enc(params)`, the signing key
// `enc(consumer_secret)&enc(token_secret)` (trailing `&` when there is no token secret), the hash call and the
// `Authorization: OAuth k="v", ...` header. Everything it gets wrong for Magento is done here instead:
// - its nonce comes from Math.random (not a CSPRNG) and its default method is PLAINTEXT: we always set both;
// - its query reader (deParam) splits values on every `=`, does not read `+` as a space, does not decode names (so
//   `a%5Bb%5D` would be encoded twice), turns repeated names into arrays and signs names without `=`: Magento does
//   none of that, so the library never sees a query string; we hand it the finished parameter string;
// - it sorts encoded names with JavaScript's sort, which is neither of Magento's two orders (below);
// - it stringifies nested objects as "[object Object]": we build PHP bracketed names ourselves;
// - it takes the URL as given (no lower-casing, default port kept, fragment kept): we normalise it, and return the
//   normalised URL, because Magento rebuilds the URL from what it received and the caller must send exactly that.
//
// Magento versions differ in how they order parameters (docs/magento-protocol.md §7, §7a):
// 2.4.4–2.4.7 sort the percent-encoded names with PHP's strnatcmp, the current code sorts the raw names with ksort
// (byte order). When the two orders disagree no signature satisfies both, so we refuse before sending.
// Not refused, only noted: one Magento version (2.4.7-style) percent-encodes values a second time before verifying,
// so on that version any value with a character outside [A-Za-z0-9._~-] (a space, a colon, `/`) fails to verify
// whatever we do. Paths are sent in the one spelling all versions sign alike, or refused (canonicalPath()).
import { createHmac, randomBytes } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { systemClock, type Clock } from '../clock.js';
import {
  assertReadableName,
  compareUtf8,
  encodeQueryName,
  flattenQuery,
  parseFormEncoded,
  percentEncode,
  phpNumericValue,
  strnatcmp,
  strnatcmpEncoded,
  type QueryInput,
  type QueryPair,
} from './encoding.js';
import { QueryError, SigningError } from './errors.js';

export interface Consumer {
  readonly key: string;
  readonly secret: string;
}

export interface Token {
  readonly key: string;
  readonly secret: string;
}

export interface SignerOptions {
  /** Where the timestamp comes from; the system clock by default. */
  clock?: Clock;
}

/** Tests only: a fixed nonce and timestamp. Left out, each call gets a fresh CSPRNG nonce and the clock's seconds. */
export interface FixedNonce {
  /** 1 to 32 characters of A-Z a-z 0-9 . _ ~ - (Magento stores nonces in a varchar(32)). */
  nonce?: string;
  /** Seconds since the epoch, a positive integer. */
  timestamp?: number;
}

export interface RestRequest extends FixedNonce {
  /** HTTP method, any case; returned upper-case. */
  method: string;
  /**
   * The full URL, e.g. `${store_base_url}rest/default/V1/products`. It may carry a query, which is read as
   * application/x-www-form-urlencoded (see parseFormEncoded) and sent re-encoded.
   */
  url: string | URL;
  /** Query parameters added after the URL's own: a nested object or decoded [name, value] pairs (see flattenQuery). */
  query?: QueryInput;
  /** An application/x-www-form-urlencoded body: signed, and returned encoded as `body`. */
  form?: QueryInput;
  /**
   * The content type of a body the caller sends itself. JSON and XML bodies are never part of the signature, so they
   * are not passed here; a form content type is refused (pass the fields as `form` so that they are signed).
   */
  contentType?: string;
}

export interface TokenRequest extends FixedNonce {
  /** `${store_base_url}oauth/token/request` or `${store_base_url}oauth/token/access`. */
  url: string | URL;
}

export interface AccessTokenRequest extends TokenRequest {
  requestToken: Token;
  /** The oauth_verifier from Magento's callback. Sent in the Authorization header: Magento ignores it elsewhere. */
  verifier: string;
}

export interface SignedRequest {
  /** Upper-case method to send. */
  method: string;
  /** The URL to send, exactly: it is the one that was signed. */
  url: string;
  /** The Authorization header value: `OAuth oauth_consumer_key="...", ..., oauth_version="1.0"`. */
  authorization: string;
  /** The encoded form body and its content type, when `form` was given. */
  body?: string;
  contentType?: string;
  /**
   * The signature base string, to compare with the store's when debugging a 401. It holds the token and the verifier
   * like the Authorization header does: never log it.
   */
  baseString: string;
}

export interface MagentoSigner {
  /** A REST call signed with the integration's access token. */
  sign(request: RestRequest, accessToken: Token): SignedRequest;
  /** POST `oauth/token/request`: consumer only, signing key `enc(consumer_secret)&`. */
  requestToken(request: TokenRequest): SignedRequest;
  /** POST `oauth/token/access`: request token and verifier in the header, key `enc(cs)&enc(request_token_secret)`. */
  accessToken(request: AccessTokenRequest): SignedRequest;
}

const SIGNATURE_METHOD = 'HMAC-SHA256';
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

const hmacSha256 = (baseString: string, key: string): string =>
  createHmac('sha256', key).update(baseString).digest('base64');

/** The library, with the parts Magento needs done differently replaced (see the top of this file). */
class MagentoOAuth extends OAuth {
  // The parameters arrive already merged, encoded, sorted and checked (canonicalise()).
  override getParameterString(request: OAuth.RequestOptions): string {
    return (request.data as { parameterString: string }).parameterString;
  }
  // The URL arrives normalised and without its query (splitUrl()).
  override getBaseUrl(url: string): string {
    return url;
  }
  // Same output as the library's (RFC 3986), one regex pass instead of five on the hot path.
  override percentEncode(s: string): string {
    return percentEncode(s);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// URL

interface SplitUrl {
  /** scheme://host[:port]/path as sent, no query: the base string's URL. */
  base: string;
  /** The URL's own query, decoded. */
  pairs: QueryPair[];
}

function splitUrl(input: string | URL): SplitUrl {
  let url: URL;
  try {
    url = new URL(typeof input === 'string' ? input : input.href);
  } catch (cause) {
    throw new SigningError('invalid_url', `${JSON.stringify(String(input))} is not an absolute URL`, { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SigningError('invalid_url', `only http:// and https:// URLs can be signed, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new SigningError('invalid_url', 'the URL must not carry a user name or password; Magento signs without them');
  }
  // WHATWG URL is what axios, fetch and node:http put on the wire, so its serialisation is what Magento receives:
  // scheme and host lower-cased, the default port dropped, the path otherwise as given (`/index.php`, the store code,
  // percent-escapes such as %2F untouched). The fragment is never sent.
  const base = url.protocol + '//' + url.host + canonicalPath(url.pathname);
  const search = url.search;
  return { base, pairs: search.length > 1 ? parseFormEncoded(search.slice(1)) : [] };
}

// Characters a path may carry raw that every Magento version reads back the same: unreserved, and the sub-delimiters
// Laminas\Uri (2.4.4–2.4.7) leaves alone. `+` is left out (Magento's router reads a raw `+` in a path as a space),
// as are `/` and `%`.
const PATH_SAFE_RAW = /^[A-Za-z0-9\-._~:@&=$,;]$/;
const PATH_RAW_ALLOWED = /[A-Za-z0-9\-._~:@&=$,;/+%]/;

/**
 * The one spelling of a path that Magento 2.4.4–2.4.7 (whose Laminas URL normalisation decodes escapes of
 * `[A-Za-z0-9-._~:@&=+$,/;%]` and encodes everything else outside that set before signing) and the current code
 * (which signs the path as received) both sign as sent: escapes of safe characters decoded, every other character
 * outside the set escaped, hex upper-case. What cannot be spelt that way is refused: `%2B` (`+`), `%2F` (`/`) and
 * `%25` before two hex digits are read back differently by the two, and no signature satisfies both.
 */
export function canonicalPath(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) {
      const hex = path.slice(i + 1, i + 3).toUpperCase();
      const ch = String.fromCharCode(parseInt(hex, 16));
      if (PATH_SAFE_RAW.test(ch)) out += ch;
      else if (hex === '2B' || hex === '2F' || (hex === '25' && /^[0-9A-Fa-f]{2}$/.test(path.slice(i + 3, i + 5)))) {
        const shown = hex === '2B' ? '+' : hex === '2F' ? '/' : '%';
        throw new SigningError(
          'ambiguous_path',
          `the URL path contains an encoded "${shown}" (%${hex}): Magento 2.4.4–2.4.7 decode it before checking the ` +
            'signature and later releases do not, so no signature satisfies both. Look the item up another way (for a ' +
            'product, GET V1/products with a searchCriteria filter on sku) instead of putting it in the path',
        );
      } else out += '%' + hex;
      i += 2;
    } else if (PATH_RAW_ALLOWED.test(c)) {
      out += c;
    } else {
      out += percentEncode(c);
    }
  }
  return out;
}

/**
 * The URL to send (and to sign): scheme and host lower-case, default port dropped, path kept exactly (`/index.php`,
 * store code, `%2F`), fragment dropped, query read as application/x-www-form-urlencoded and re-encoded the way the
 * signer sends it (bracketed names raw, values RFC 3986). Applying it to its own output changes nothing.
 */
export function normaliseUrl(url: string | URL): string {
  const { base, pairs } = splitUrl(url);
  if (pairs.length === 0) return base;
  let query = '';
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    query += (i === 0 ? '' : '&') + encodeQueryName(name) + '=' + percentEncode(value);
  }
  return base + '?' + query;
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters

interface Param {
  /** Decoded name: what ksort compares. */
  name: string;
  /** percentEncode(name): what strnatcmp compares and the base string holds. */
  enc: string;
  /** enc + '=' + percentEncode(value). */
  signed: string;
}

interface Canonical {
  parameterString: string;
  /** The query to send, in the caller's order (order does not matter to Magento, which sorts). */
  query: string;
  body: string | undefined;
}

const MAY_BE_NUMERIC = /^[\s+\-.0-9]/;
const BEYOND_SURROGATE_START = /[\uD800-\uFFFF]/;

function canonicalise(protocol: readonly QueryPair[], query: readonly QueryPair[], form: readonly QueryPair[]): Canonical {
  const params: Param[] = [];
  for (const [name, value] of protocol) {
    const enc = percentEncode(name);
    params.push({ name, enc, signed: enc + '=' + percentEncode(value) });
  }

  const seen = new Set<string>();
  let bracketed = false;
  const add = (name: string, value: string, where: 'query' | 'form'): string => {
    assertReadableName(name, where);
    if (seen.has(name)) {
      throw new QueryError(
        'duplicate_parameter',
        `parameter ${JSON.stringify(name)} is given more than once (the URL's query, the query and the form body ` +
          `share one set of names in Magento, and PHP keeps only the last); send it once`,
      );
    }
    seen.add(name);
    const enc = percentEncode(name);
    const encValue = percentEncode(value);
    params.push({ name, enc, signed: enc + '=' + encValue });
    return encValue;
  };

  let queryString = '';
  for (let i = 0; i < query.length; i++) {
    const [name, value] = query[i]!;
    const encValue = add(name, value, 'query');
    if (name.includes('[')) bracketed = true;
    queryString += (i === 0 ? '' : '&') + encodeQueryName(name) + '=' + encValue;
  }
  let body: string | undefined;
  if (form.length > 0) {
    body = '';
    for (let i = 0; i < form.length; i++) {
      const [name, value] = form[i]!;
      // Form names have no brackets (assertReadableName), so their URL spelling is plain percent-encoding.
      body += (i === 0 ? '' : '&') + percentEncode(name) + '=' + add(name, value, 'form');
    }
  }
  if (bracketed) assertNoFlatBaseClash(seen);

  sortAndCheck(params);
  let parameterString = params[0]?.signed ?? '';
  for (let i = 1; i < params.length; i++) parameterString += '&' + params[i]!.signed;
  return { parameterString, query: queryString, body };
}

// PHP reads `a=1&a[b]=2` as one variable `a` (the later spelling wins), and the current Magento code then drops `a`
// from the signature while 2.4.4–2.4.7 keep it.
function assertNoFlatBaseClash(names: Set<string>): void {
  for (const name of names) {
    const bracket = name.indexOf('[');
    if (bracket > 0 && names.has(name.slice(0, bracket))) {
      throw new QueryError(
        'invalid_parameter_name',
        `parameters ${JSON.stringify(name.slice(0, bracket))} and ${JSON.stringify(name)} are the same PHP variable; ` +
          `send one of them`,
      );
    }
  }
}

/**
 * Sorts `params` in the current Magento code's order (ksort of the raw names) and throws SigningError
 * 'ambiguous_parameter_order' unless 2.4.4–2.4.7's order (strnatcmp of the encoded names) is the same. Checking
 * neighbours is enough: where strnatcmp is inconsistent (non-transitive) over a set of names, some neighbour pair is
 * out of order too, and PHP's own result would then depend on the order Magento inserted the names in.
 */
function sortAndCheck(params: Param[]): void {
  let wide = false;
  for (const p of params) if (BEYOND_SURROGATE_START.test(p.name)) wide = true;
  // ksort compares names byte by byte (UTF-8); UTF-16 order is the same unless a surrogate meets U+E000..U+FFFF.
  const bytes = wide ? (x: Param, y: Param) => compareUtf8(x.name, y.name) : (x: Param, y: Param) => (x.name < y.name ? -1 : 1);
  params.sort(bytes);
  if (numericNamesOutOfByteOrder(params)) sortNumericNames(params, bytes);

  for (let i = 1; i < params.length; i++) {
    if (strnatcmpEncoded(params[i - 1]!.enc, params[i]!.enc) >= 0) throw orderConflict(params[i - 1]!, params[i]!);
  }
}

// ksort compares two numeric names ("9", "10", "1e1") by value rather than byte by byte. Almost never relevant:
// Magento's own parameters are never numbers.
function numericNamesOutOfByteOrder(sorted: readonly Param[]): boolean {
  let previous: number | undefined;
  for (const p of sorted) {
    if (!MAY_BE_NUMERIC.test(p.name)) continue;
    const value = phpNumericValue(p.name);
    if (value === undefined) continue;
    if (previous !== undefined && !(previous < value)) return true;
    previous = value;
  }
  return false;
}

/** ksort's real order when numeric names are involved, or a refusal when that order depends on insertion order. */
function sortNumericNames(params: Param[], bytes: (x: Param, y: Param) => number): void {
  const value = new Map<Param, number | undefined>(params.map((p) => [p, phpNumericValue(p.name)]));
  const ksort = (x: Param, y: Param): number => {
    const a = value.get(x);
    const b = value.get(y);
    return a !== undefined && b !== undefined ? Math.sign(a - b) : bytes(x, y);
  };
  params.sort(ksort);
  // Mixed comparisons (by value between numbers, by bytes otherwise) need not be transitive, and equal numbers
  // ("1", "01") tie: then PHP's result depends on the order Magento inserted the names in, which no client knows.
  for (let i = 0; i < params.length; i++) {
    for (let j = i + 1; j < params.length; j++) {
      if (ksort(params[i]!, params[j]!) >= 0) {
        throw new SigningError(
          'ambiguous_parameter_order',
          `cannot sign this request: the current Magento code (ksort) compares the parameter names that are numbers ` +
            `by value and all others byte by byte, and for ${JSON.stringify(params[i]!.name)} and ` +
            `${JSON.stringify(params[j]!.name)} that gives no consistent order, so the order it signs in cannot be ` +
            `known and the store could answer 401 "The signature is invalid". Use names that are not numbers`,
        );
      }
    }
  }
}

const DIGITS = /^[0-9]+/;

function orderConflict(first: Param, second: Param): SigningError {
  // `first` sorts before `second` byte by byte (current Magento); strnatcmp puts it after, or calls them equal.
  const a = first.enc;
  const b = second.enc;
  const natural = strnatcmp(a, b);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  while (i > 0 && /[0-9]/.test(a[i - 1]!)) i--;
  const runA = DIGITS.exec(a.slice(i))?.[0];
  const runB = DIGITS.exec(b.slice(i))?.[0];
  const names = `"${first.name}" and "${second.name}"`;
  const outcome =
    'so no signature is valid on every Magento version and the store would answer 401 "The signature is invalid"';
  if (natural !== 0 && runA !== undefined && runB !== undefined && runA.length !== runB.length) {
    const [short, long] = runA.length < runB.length ? [runA, runB] : [runB, runA];
    return new SigningError(
      'ambiguous_parameter_order',
      `cannot sign this request: Magento versions order the parameters ${names} differently, ${outcome}. Their ` +
        `digit runs ${runA} and ${runB} have different lengths: 2.4.4–2.4.7 compare them as numbers (${short} ` +
        `before ${long}), the current code character by character (${runA} before ${runB}). Split the ` +
        `request so that every index stays below 10 (e.g. at most 10 filter groups or filters per request), or keep ` +
        `the numbers in these names the same length`,
    );
  }
  if (natural === 0) {
    return new SigningError(
      'ambiguous_parameter_order',
      `cannot sign this request: the parameters ${names} are equal in PHP's natural order (it skips leading zeros ` +
        `and spaces), so the order Magento 2.4.4–2.4.7 sign them in cannot be known and the store could answer 401 ` +
        `"The signature is invalid". Rename one of them`,
    );
  }
  const why =
    phpNumericValue(first.name) !== undefined && phpNumericValue(second.name) !== undefined
      ? `Both names are numbers: the current code compares them by value, 2.4.4–2.4.7 in natural order`
      : `2.4.4–2.4.7 compare the percent-encoded names (${a} vs ${b}), the current code the raw names, and the ` +
        `encoding changes their order`;
  return new SigningError(
    'ambiguous_parameter_order',
    `cannot sign this request: Magento versions order the parameters ${names} differently, ${outcome}. ${why}. ` +
      `Rename one of them`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Nonce, timestamp, credentials

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const NONCE_LENGTH = 32;
// Random bytes are drawn in blocks (one randomBytes call per ~30 nonces instead of one per nonce). Bytes >= 248 are
// skipped so that every character is equally likely (248 = 4 * 62).
let pool = Buffer.alloc(0);
let poolAt = 0;

/** 32 characters of [A-Za-z0-9] from the CSPRNG. */
export function generateNonce(): string {
  let nonce = '';
  while (nonce.length < NONCE_LENGTH) {
    if (poolAt >= pool.length) {
      pool = randomBytes(1024);
      poolAt = 0;
    }
    const byte = pool[poolAt++]!;
    if (byte < 248) nonce += NONCE_ALPHABET[byte % 62];
  }
  return nonce;
}

const NONCE_SHAPE = /^[A-Za-z0-9._~-]{1,32}$/;

function nonceFor(fixed: FixedNonce): string {
  if (fixed.nonce === undefined) return generateNonce();
  if (typeof fixed.nonce !== 'string' || !NONCE_SHAPE.test(fixed.nonce)) {
    throw new SigningError('invalid_nonce', 'a fixed nonce must be 1 to 32 characters of A-Z a-z 0-9 . _ ~ -');
  }
  return fixed.nonce;
}

function timestampFor(fixed: FixedNonce, clock: Clock): number {
  if (fixed.timestamp === undefined) return Math.floor(clock.now().getTime() / 1000);
  if (!Number.isSafeInteger(fixed.timestamp) || fixed.timestamp <= 0) {
    throw new SigningError('invalid_timestamp', 'a fixed timestamp must be a positive whole number of seconds');
  }
  return fixed.timestamp;
}

function assertSecretPair(pair: Consumer | Token, what: string): void {
  if (
    typeof pair !== 'object' || pair === null ||
    typeof pair.key !== 'string' || pair.key === '' ||
    typeof pair.secret !== 'string' || pair.secret === ''
  ) {
    throw new SigningError('invalid_credentials', `the ${what} needs a non-empty key and secret`);
  }
}

const METHOD = /^[A-Za-z]+$/;

function methodOf(method: string): string {
  if (typeof method !== 'string' || !METHOD.test(method)) {
    throw new SigningError('invalid_method', `${JSON.stringify(method)} is not an HTTP method`);
  }
  return method.toUpperCase();
}

// ---------------------------------------------------------------------------------------------------------------
// Signing

interface SignInput {
  method: string;
  url: string | URL;
  query?: QueryInput | undefined;
  form?: QueryInput | undefined;
  contentType?: string | undefined;
  token?: Token | undefined;
  verifier?: string | undefined;
  fixed: FixedNonce;
}

/** Signs requests for one integration (one consumer key and secret). Always HMAC-SHA256, oauth_version 1.0. */
export function createSigner(consumer: Consumer, options: SignerOptions = {}): MagentoSigner {
  assertSecretPair(consumer, 'consumer');
  const clock = options.clock ?? systemClock;
  const oauth = new MagentoOAuth({
    consumer: { key: consumer.key, secret: consumer.secret },
    signature_method: SIGNATURE_METHOD,
    hash_function: hmacSha256,
    version: '1.0',
  });

  function signWith(input: SignInput): SignedRequest {
    const method = methodOf(input.method);
    if (input.contentType !== undefined && input.form === undefined &&
        input.contentType.trim().toLowerCase().startsWith(FORM_CONTENT_TYPE)) {
      throw new SigningError(
        'form_body_not_structured',
        'a form body is part of the signature: pass its fields as `form` and send the returned body',
      );
    }
    const { base, pairs: urlPairs } = splitUrl(input.url);
    const query = input.query === undefined ? urlPairs : urlPairs.concat(flattenQuery(input.query));
    const form = input.form === undefined ? [] : flattenQuery(input.form);

    const oauthData: OAuth.Data & { oauth_verifier?: string } = {
      oauth_consumer_key: consumer.key,
      oauth_nonce: nonceFor(input.fixed),
      oauth_signature_method: SIGNATURE_METHOD,
      oauth_timestamp: timestampFor(input.fixed, clock),
      oauth_version: '1.0',
    };
    if (input.token !== undefined) oauthData.oauth_token = input.token.key;
    if (input.verifier !== undefined) oauthData.oauth_verifier = input.verifier;
    const protocol: QueryPair[] = [];
    for (const [name, value] of Object.entries(oauthData)) protocol.push([name, String(value)]);

    const canonical = canonicalise(protocol, query, form);
    const request: OAuth.RequestOptions = { method, url: base, data: canonical };
    const baseString = oauth.getBaseString(request, oauthData);
    const signature = oauth.hash_function(baseString, oauth.getSigningKey(input.token?.secret));
    const { Authorization } = oauth.toHeader({ ...oauthData, oauth_signature: signature });

    const signed: SignedRequest = {
      method,
      url: canonical.query === '' ? base : base + '?' + canonical.query,
      authorization: Authorization,
      baseString,
    };
    if (canonical.body !== undefined) {
      signed.body = canonical.body;
      signed.contentType = FORM_CONTENT_TYPE;
    }
    return signed;
  }

  return {
    sign(request, accessToken) {
      assertSecretPair(accessToken, 'access token');
      return signWith({ ...request, token: accessToken, fixed: request });
    },
    requestToken(request) {
      return signWith({ method: 'POST', url: request.url, fixed: request });
    },
    accessToken(request) {
      assertSecretPair(request.requestToken, 'request token');
      if (typeof request.verifier !== 'string' || request.verifier === '') {
        throw new SigningError('invalid_credentials', 'the access-token request needs the oauth_verifier from the callback');
      }
      return signWith({ method: 'POST', url: request.url, token: request.requestToken, verifier: request.verifier, fixed: request });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Diagnostics

const baseStringOAuth = new MagentoOAuth({
  consumer: { key: '', secret: '' },
  signature_method: SIGNATURE_METHOD,
  hash_function: hmacSha256,
});

/**
 * Diagnostics and tests: the base string Magento computes for `method` + `url` (its query included) with the given
 * protocol parameters (`oauth_*`, `oauth_signature` excluded) and optional form body fields, with the same checks
 * as signing. Sending a request is createSigner()'s job.
 */
export function signatureBaseString(
  method: string,
  url: string | URL,
  protocol: Readonly<Record<string, string>>,
  form?: QueryInput,
): string {
  const protocolPairs: QueryPair[] = [];
  for (const [name, value] of Object.entries(protocol)) {
    if (!name.startsWith('oauth_') || name === 'oauth_signature') {
      throw new SigningError('invalid_credentials', `${name} is not a protocol parameter that is signed`);
    }
    protocolPairs.push([name, value]);
  }
  const { base, pairs } = splitUrl(url);
  const canonical = canonicalise(protocolPairs, pairs, form === undefined ? [] : flattenQuery(form));
  return baseStringOAuth.getBaseString({ method: methodOf(method), url: base, data: canonical }, {} as OAuth.Data);
}

/**
 * Internal: base64 HMAC of a base string with key `enc(consumer_secret)&enc(token_secret)`. SHA-1 exists only to
 * check the OAuth 1.0a spec's published example; requests are signed by createSigner(), with HMAC-SHA256 only.
 */
export function hmacSignature(
  baseString: string,
  consumerSecret: string,
  tokenSecret = '',
  algorithm: 'sha256' | 'sha1' = 'sha256',
): string {
  return createHmac(algorithm, percentEncode(consumerSecret) + '&' + percentEncode(tokenSecret))
    .update(baseString)
    .digest('base64');
}
