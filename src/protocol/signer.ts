// OAuth 1.0a signing the way Magento 2 verifies it (HMAC-SHA256 only), for the token endpoints and for REST calls.
// A signature, from URL to header, is the steps of signWith() below:
//   1. the URL, normalised, its path checked for the profile's verifier                              url.ts
//   2. the oauth_* parameters, with a fresh CSPRNG nonce and the clock's timestamp                    nonce.ts
//   3. oauth_*, query and form merged, names checked, values encoded and sorted for the verifier      parameters.ts,
//      (the signing profile: parameter order, value encoding, path rule)                             signing-profiles.ts
//      (a call with neither query nor form: the token's parameter string kept in pieces, parameterTailOf)
//   4. base string METHOD&enc(url)&enc(parameters), key enc(consumer_secret)&enc(token_secret), HMAC-SHA256, base64
//   5. the Authorization header.
//
// oauth-1.0a is used for step 5 only (toHeader, its public interface), once per token: the header's layout it writes
// is kept as a layout (headerLayoutOf) that each signature fills with its nonce, timestamp and signature. Its
// base string cannot express Magento's orders: it sorts encoded names with JavaScript's sort, reads queries in ways
// PHP does not (values split on every `=`, no `+` as space, names not decoded, repeated names as arrays) and keeps
// the URL as given. So steps 1-4 are written out here, in a few lines each, instead of being passed through its
// internals.
import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { systemClock, type Clock } from '../clock.js';
import { SigningError } from './errors.js';
import { generateNonce, nonceFor, timestampFor, type FixedNonce } from './nonce.js';
import { collectParameters, parameterStringOf, protocolParameter } from './parameters.js';
import type { Parameter } from './parameter-order.js';
import { flattenQuery, percentEncode, type QueryInput } from './query.js';
import { signingProfile, type SigningProfile, type SigningProfileName } from './signing-profiles.js';
import { splitUrl } from './url.js';

export type { FixedNonce } from './nonce.js';

/** A key and secret: the integration's consumer, or a request or access token. */
export interface Credential {
  readonly key: string;
  readonly secret: string;
}
export type Consumer = Credential;
export type Token = Credential;

export interface SignerOptions {
  /** Where the timestamp comes from; the system clock by default. */
  clock?: Clock;
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
  query?: QueryInput | undefined;
  /** An application/x-www-form-urlencoded body: signed, and returned encoded as `body`. */
  form?: QueryInput | undefined;
  /**
   * The content type of a body the caller sends itself. JSON and XML bodies are never part of the signature, so they
   * are not passed here; a form content type is refused (pass the fields as `form` so that they are signed).
   */
  contentType?: string | undefined;
  /** The store's verifier (signing-profiles.ts); null or left out when not known: the common form. */
  profile?: SigningProfileName | null | undefined;
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
  /** A REST call signed with the integration's access token, for the store's signing profile. */
  sign(request: RestRequest, accessToken: Token): SignedRequest;
  /** POST `oauth/token/request`: consumer only, signing key `enc(consumer_secret)&`. */
  requestToken(request: TokenRequest): SignedRequest;
  /** POST `oauth/token/access`: request token and verifier in the header, key `enc(cs)&enc(request_token_secret)`. */
  accessToken(request: AccessTokenRequest): SignedRequest;
}

export const SIGNATURE_METHOD = 'HMAC-SHA256';
// What a call without query or form sends besides its URL.
const NOTHING_SENT = Object.freeze({ query: '', body: undefined });
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

// Only toHeader() is used: it writes `OAuth k="v", ...` with the oauth_* pairs sorted and RFC 3986 encoded.
const headerWriter = new OAuth({
  consumer: { key: '', secret: '' },
  signature_method: SIGNATURE_METHOD,
  hash_function: (base, key) => signatureOf(base, key),
});

/** The Authorization header's layout for one token: the pieces before, between and after nonce, signature, timestamp. */
export type HeaderLayout = readonly [string, string, string, string];

/**
 * The Authorization header oauth-1.0a's toHeader writes for a token, as the pieces around the three values that change
 * with every signature (writeHeader fills them). toHeader sorts the oauth_* names and percent-encodes names and values
 * each time (5 regex passes per value, a sorted copy of the object): in the proxy's path that was a sixth of a signed
 * call's cost, for a header whose layout only changes with the token. The layout is read from toHeader's own output,
 * with placeholders where the nonce, timestamp and signature go; null when a placeholder is found other than exactly
 * once (a key that happens to contain one): such a header is written by toHeader itself (headerOf). Values are
 * encoded with our percentEncode, which is RFC 3986 as toHeader's (test/protocol/signer.test.ts compares the two).
 */
export function headerLayoutOf(fixed: HeaderFixed): HeaderLayout | null {
  // toHeader's oauth_timestamp is typed a number; it encodes whatever it is given.
  // Name order puts oauth_nonce before oauth_signature before oauth_timestamp.
  const pieces = piecesAround(headerOf(fixed, HEADER_MARKS[0], HEADER_MARKS[2] as unknown as number, HEADER_MARKS[1]), HEADER_MARKS);
  return pieces && (shared(pieces, lastHeader) as unknown as HeaderLayout);
}
const HEADER_MARKS = ['Q1nonceHEREq1', 'Q2signatureHEREq2', 'Q3timestampHEREq3'] as const;
const TAIL_MARKS = [HEADER_MARKS[0], HEADER_MARKS[2]] as const;

export function writeHeader(layout: HeaderLayout, nonce: string, timestamp: number, signature: string): string {
  return layout[0] + percentEncode(nonce) + layout[1] + percentEncode(signature) + layout[2] + String(timestamp) + layout[3];
}

/** The header as toHeader writes it: for a layout that cannot be kept in pieces. */
function headerOf(fixed: HeaderFixed, nonce: string, timestamp: number, signature: string): string {
  return headerWriter.toHeader({ ...fixed, oauth_nonce: nonce, oauth_timestamp: timestamp, oauth_signature: signature }).Authorization;
}

/**
 * `written` cut around `marks` (placeholders of a template): the pieces before, between and after them, or null
 * unless each mark occurs exactly once and in the order given.
 */
function piecesAround(written: string, marks: readonly string[]): string[] | null {
  const pieces: string[] = [];
  let from = 0;
  for (const mark of marks) {
    const at = written.indexOf(mark);
    if (at < from || at !== written.lastIndexOf(mark)) return null;
    pieces.push(written.slice(from, at));
    from = at + mark.length;
  }
  pieces.push(written.slice(from));
  return pieces;
}

// The pieces most recently made: those that are the same for every token (between nonce and signature, say) are
// kept once rather than once per cached signer, and the others as strings of their own. A proxy may cache 10,000
// signers (issue 16), and a piece cut with slice() is a view that keeps the whole string it was cut from alive.
const lastHeader: string[] = [];
const lastTail: string[] = [];
function shared(pieces: string[], last: string[]): string[] {
  const kept = new Array<string>(pieces.length); // exactly its length: push() leaves room to grow
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (piece !== last[i]) last[i] = ownCopy(piece);
    kept[i] = last[i]!;
  }
  return kept;
}

/** `text` as a string of its own rather than a view of a longer one (the pieces are ASCII: encoded values). */
function ownCopy(text: string): string {
  const copy = Buffer.from(text, 'latin1').toString('latin1');
  return copy === text ? copy : text;
}

/** The base string's last part for a call without query or form: the pieces around its nonce and timestamp. */
export type TailLayout = readonly [string, string, string];

/**
 * The base string's last part, `enc(parameter string)`, for a call that signs the oauth_* parameters only (no query,
 * no form: most REST reads), as pieces around its nonce and timestamp (writeTail fills them); null when it cannot be
 * had that way. Every verifier orders parameters by name alone and the oauth_* names are distinct, so the order of
 * those six does not depend on their values; nonces (A-Z a-z 0-9 . _ ~ -) and timestamps (digits) are unreserved
 * characters, which percent-encoding leaves as they are, once or twice. So the string collectParameters builds with
 * placeholder values is kept in three pieces around them, like the header's layout (headerLayoutOf); each signature
 * then joins five strings instead of building, sorting and encoding the parameters again. The layout is checked once
 * against the general path with a real nonce and timestamp, and not used if the two differ.
 */
export function parameterTailOf(fixed: readonly Parameter[], profile: SigningProfile): TailLayout | null {
  const general = (nonce: string, timestamp: string) => {
    const { sorted } = collectParameters(fixed.concat(protocolParameter('oauth_nonce', nonce), protocolParameter('oauth_timestamp', timestamp)), [], [], profile);
    return percentEncode(parameterStringOf(sorted));
  };
  const pieces = piecesAround(general(TAIL_MARKS[0], TAIL_MARKS[1]), TAIL_MARKS) as [string, string, string] | null;
  if (pieces === null) return null;
  const [nonce, timestamp] = [generateNonce(), 1_700_000_000];
  return writeTail(pieces, nonce, timestamp) === general(nonce, String(timestamp)) ? (shared(pieces, lastTail) as unknown as TailLayout) : null;
}

export function writeTail(layout: TailLayout, nonce: string, timestamp: number): string {
  return layout[0] + nonce + layout[1] + String(timestamp) + layout[2];
}

/** The oauth_* values of a header that stay the same from one signature to the next. */
export interface HeaderFixed {
  oauth_consumer_key: string;
  oauth_signature_method: string;
  oauth_version: string;
  oauth_token?: string;
  oauth_verifier?: string;
}

/** `METHOD&enc(url)&enc(name=value&...)`, the parameters already encoded and in the verifier's order. */
export function baseStringOf(method: string, url: string, parameterString: string): string {
  return method + '&' + percentEncode(url) + '&' + percentEncode(parameterString);
}

/** The HMAC key `enc(consumer_secret)&enc(token_secret)` (a trailing `&` without a token). */
export function signingKeyOf(consumerSecret: string, tokenSecret = ''): string {
  return percentEncode(consumerSecret) + '&' + percentEncode(tokenSecret);
}

/** HMAC-SHA256 of the base string, base64, with the key signingKeyOf gives. */
export function signatureOf(baseString: string, key: string): string {
  return createHmac('sha256', key).update(baseString).digest('base64');
}

/** What is signed; the fixed nonce and timestamp (tests) are read from it too. */
interface SignInput extends FixedNonce {
  method: string;
  url: string | URL;
  query?: QueryInput | undefined;
  form?: QueryInput | undefined;
  contentType?: string | undefined;
  profile?: SigningProfileName | null | undefined;
}

/** Signs requests for one integration (one consumer key and secret). Always HMAC-SHA256, oauth_version 1.0. */
export function createSigner(consumer: Consumer, options: SignerOptions = {}): MagentoSigner {
  assertCredential(consumer, 'consumer');
  return new Signer(consumer.key, consumer.secret, options.clock ?? systemClock);
}

/**
 * What stays the same between signatures with one token (and verifier): the oauth_* values but the nonce and
 * timestamp, the header's layout, and the parameter tail for one profile (the store's; another profile makes it
 * again). A class with nothing per call: a proxy may cache 10,000 signers (issue 16).
 */
class TokenState {
  /** The fixed values as signed parameters, for calls with a query or form (made when first needed). */
  private signed: Parameter[] | undefined;
  private tailProfile: SigningProfile | undefined;
  private tail: TailLayout | null = null;

  constructor(
    /** The token key, and `&verifier` when there is one. */
    readonly which: string,
    readonly values: HeaderFixed,
    readonly header: HeaderLayout | null,
  ) {}

  parameters(): Parameter[] {
    return (this.signed ??= signedParameters(this.values));
  }

  /** The profile's parameter tail (parameterTailOf); null: the general path signs. */
  tailFor(profile: SigningProfile): TailLayout | null {
    if (profile !== this.tailProfile) {
      // Made from a copy of the parameters: a token signing only query-less calls keeps none.
      this.tail = parameterTailOf(this.signed ?? signedParameters(this.values), profile);
      this.tailProfile = profile;
    }
    return this.tail;
  }
}

function signedParameters(values: HeaderFixed): Parameter[] {
  return Object.entries(values).map(([name, value]) => protocolParameter(name, value));
}

class Signer implements MagentoSigner {
  // The signing key, kept for the last token secret: a store's calls all use its one access token. A string: a
  // Buffer would spare createHmac no measurable time and hold three objects and a native allocation per signer.
  private keyFor: string | undefined;
  private key = '';
  // Kept for the last token and verifier: a store's calls all use one.
  private state: TokenState | undefined;

  constructor(
    private readonly consumerKey: string,
    private readonly consumerSecret: string,
    private readonly clock: Clock,
  ) {}

  sign(request: RestRequest, accessToken: Token): SignedRequest {
    assertCredential(accessToken, 'access token');
    return this.signWith(request, accessToken);
  }

  requestToken(request: TokenRequest): SignedRequest {
    return this.signWith({ method: 'POST', url: request.url, nonce: request.nonce, timestamp: request.timestamp });
  }

  accessToken(request: AccessTokenRequest): SignedRequest {
    assertCredential(request.requestToken, 'request token');
    if (typeof request.verifier !== 'string' || request.verifier === '') {
      throw new SigningError('invalid_credentials', 'the access-token request needs the oauth_verifier from the callback');
    }
    return this.signWith({ method: 'POST', url: request.url, nonce: request.nonce, timestamp: request.timestamp }, request.requestToken, request.verifier);
  }

  private signingKey(tokenSecret: string): string {
    if (tokenSecret !== this.keyFor) {
      this.key = signingKeyOf(this.consumerSecret, tokenSecret);
      this.keyFor = tokenSecret;
    }
    return this.key;
  }

  private stateOf(token: Token | undefined, verifier: string | undefined): TokenState {
    const which = token === undefined ? '' : verifier === undefined ? token.key : `${token.key}&${verifier}`;
    if (this.state?.which !== which) {
      const values: HeaderFixed = { oauth_consumer_key: this.consumerKey, oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0' };
      if (token !== undefined) values.oauth_token = token.key;
      if (verifier !== undefined) values.oauth_verifier = verifier;
      this.state = new TokenState(which, values, headerLayoutOf(values));
    }
    return this.state;
  }

  private signWith(input: SignInput, token?: Token, verifier?: string): SignedRequest {
    const method = methodOf(input.method);
    if (input.contentType !== undefined && input.form === undefined &&
        input.contentType.trim().toLowerCase().startsWith(FORM_CONTENT_TYPE)) {
      throw new SigningError(
        'form_body_not_structured',
        'a form body is part of the signature: pass its fields as `form` and send the returned body',
      );
    }
    const profile = signingProfile(input.profile);
    // 1. URL
    const { base, pairs: urlPairs } = splitUrl(input.url, profile);
    const query = input.query === undefined ? urlPairs : urlPairs.concat(flattenQuery(input.query));
    const form = input.form === undefined ? [] : flattenQuery(input.form);
    // 2. protocol parameters: the token's fixed ones, a fresh nonce and the clock's timestamp
    const nonce = nonceFor(input);
    const timestamp = timestampFor(input, this.clock);
    const state = this.stateOf(token, verifier);
    // 3. every signed parameter, in the verifier's order; 4. the base string
    let baseString: string;
    let sent: Readonly<{ query: string; body: string | undefined }>;
    const tail = query.length === 0 && form.length === 0 ? state.tailFor(profile) : null;
    if (tail) {
      baseString = method + '&' + percentEncode(base) + '&' + writeTail(tail, nonce, timestamp);
      sent = NOTHING_SENT;
    } else {
      const protocol = state.parameters().concat(protocolParameter('oauth_nonce', nonce), protocolParameter('oauth_timestamp', String(timestamp)));
      const params = collectParameters(protocol, query, form, profile);
      baseString = baseStringOf(method, base, parameterStringOf(params.sorted));
      sent = params;
    }
    // 4. key, signature
    const signature = signatureOf(baseString, this.signingKey(token?.secret ?? ''));
    // 5. header
    const authorization = state.header ? writeHeader(state.header, nonce, timestamp, signature) : headerOf(state.values, nonce, timestamp, signature);

    const signed: SignedRequest = {
      method,
      url: sent.query === '' ? base : base + '?' + sent.query,
      authorization,
      baseString,
    };
    if (sent.body !== undefined) {
      signed.body = sent.body;
      signed.contentType = FORM_CONTENT_TYPE;
    }
    return signed;
  }
}

function assertCredential(pair: Credential, what: string): void {
  if (
    typeof pair !== 'object' || pair === null ||
    typeof pair.key !== 'string' || pair.key === '' ||
    typeof pair.secret !== 'string' || pair.secret === ''
  ) {
    throw new SigningError('invalid_credentials', `the ${what} needs a non-empty key and secret`);
  }
}

const METHOD = /^[A-Za-z]+$/;

export function methodOf(method: string): string {
  if (typeof method !== 'string' || !METHOD.test(method)) {
    throw new SigningError('invalid_method', `${JSON.stringify(method)} is not an HTTP method`);
  }
  return method.toUpperCase();
}
