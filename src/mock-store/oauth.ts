// Magento's OAuth provider, an independent port of (2.4.4+):
//  - Magento\Framework\Oauth\Helper\Request (which parameters a request carries, and its URL),
//  - Magento\Framework\Oauth\Oauth (getRequestToken / getAccessToken / validateAccessTokenRequest),
//  - Magento\Integration\Model\Oauth\Token\Provider, Nonce\Generator, Consumer::isValidForTokenExchange.
// Checks run in Magento's order with Magento's exception types, because the order decides what a client sees
// (a nonce is stored before the signature is checked; the 300 s window is checked before the signature; "not a
// verifier token" only after it).
import { aggregateInputErrors, inputError, MagentoException, oauthError, requiredField } from './errors.js';
import { parseStr, phpIntCast, rawurldecode, type PhpValue } from './php.js';
import { KEY_LENGTH, type ConsumerRow, type MagentoTables, type TokenRow } from './tokens.js';
import { VERIFIERS, type Verifier } from './verifiers.js';

/** Oauth::getSupportedSignatureMethods() in 2.4.4+ */
export const SUPPORTED_SIGNATURE_METHODS = ['HMAC-SHA256'];
/** Nonce\Generator::TIME_DEVIATION */
const TIME_DEVIATION_SECONDS = 600;

export type OauthParams = Map<string, PhpValue>;

export interface IncomingRequest {
  method: string;
  /** https when the connection was TLS or the SSL-offloader header says so (Request\Http::isSecure). */
  secure: boolean;
  /** Raw Host header, port included. */
  host: string;
  /** Request target exactly as received (path and query). */
  requestUri: string;
  authorization: string | undefined;
  contentType: string | undefined;
  /** Body as a byte string. */
  body: string;
}

/** Helper\Request::getRequestUrl */
export const requestUrl = (req: IncomingRequest): string =>
  `${req.secure ? 'https' : 'http'}://${req.host}${req.requestUri}`;

/** Helper\Request::_isProtocolParameter — note the pattern is not anchored. */
const isProtocolParameter = (name: string): boolean => /oauth_[a-z_-]+/.test(name);

/**
 * Helper\Request::prepareRequest: the header's oauth_* pairs; then, for a form-urlencoded body, its non-oauth
 * fields (its oauth_* fields only when the header carried none); then every query pair with exactly one `=`
 * whose name is not an oauth_* name. Empty when there is no `OAuth ` header at all.
 */
export function prepareRequest(req: IncomingRequest): OauthParams {
  const params: OauthParams = new Map();
  const header = req.authorization ?? '';
  const at = header.toLowerCase().indexOf('oauth ');
  if (!header || at === -1) return params;
  for (const pair of header.slice(at + 6).split(',')) {
    const trimmed = pair.trim();
    const eq = trimmed.indexOf('=');
    if (eq === -1) continue;
    const name = trimmed.slice(0, eq);
    if (isProtocolParameter(name)) params.set(rawurldecode(name), rawurldecode(trimQuotes(trimmed.slice(eq + 1))));
  }

  if (req.contentType && req.contentType.startsWith('application/x-www-form-urlencoded')) {
    const headerHadNone = params.size === 0;
    for (const [name, value] of parseStr(req.body)) {
      if (!isProtocolParameter(name) || headerHadNone) params.set(name, value);
    }
  }

  const q = req.requestUri.indexOf('?');
  const query = q === -1 ? '' : req.requestUri.slice(q + 1).replace(/#.*$/, '');
  if (query) {
    for (const pair of query.split('&')) {
      const parts = pair.split('=');
      if (parts.length === 2 && !isProtocolParameter(parts[0]!)) {
        params.set(rawurldecode(parts[0]!), rawurldecode(parts[1]!));
      }
    }
  }
  return params;
}

/** PHP trim($v, '"') */
const trimQuotes = (v: string): string => v.replace(/^"+|"+$/g, '');

/** A PHP TypeError (an array where a string is expected): not an \Exception, so nothing Magento catches. */
export class PhpTypeError extends Error {}

const str = (v: PhpValue | undefined): string => {
  if (v !== undefined && typeof v !== 'string') throw new PhpTypeError('string expected, array given');
  return v ?? '';
};

export interface OauthServerOptions {
  tables: MagentoTables;
  now: () => Date;
  /** oauth/consumer/expiration_period, seconds. */
  consumerExpirationSeconds: number;
  /** The verifier for a consumer (its integration's, else the store's); undefined consumer = unknown key. */
  verifierOf?: (consumer: ConsumerRow | undefined) => Verifier;
}

export interface IssuedToken {
  oauth_token: string;
  oauth_token_secret: string;
}

export class OauthServer {
  constructor(private readonly o: OauthServerOptions) {}

  private nowSeconds(): number {
    return Math.floor(this.o.now().getTime() / 1000);
  }

  /**
   * The verifier that judges a request: the one of the integration whose consumer key the header names, else the
   * store's. Chosen before anything is validated, from the raw header (the key is 32 alphanumerics either way).
   */
  verifierFor(req: IncomingRequest): Verifier {
    const key = prepareRequest(req).get('oauth_consumer_key');
    const consumer = typeof key === 'string' && key.length === KEY_LENGTH ? this.o.tables.consumerByKey(key) : undefined;
    return this.o.verifierOf?.(consumer) ?? VERIFIERS.laminas;
  }

  /** Oauth::getRequestToken */
  getRequestToken(params: OauthParams, url: string, method: string, verifier: Verifier = VERIFIERS.laminas): IssuedToken {
    this.validateProtocolParams(params);
    const consumer = this.consumerByKey(params.get('oauth_consumer_key'));
    this.validateConsumer(consumer);
    this.validateSignature(params, consumer.secret, method, url, null, verifier);
    return this.createRequestToken(consumer);
  }

  /** Oauth::getAccessToken; also returns the consumer, for the controller that then marks the integration active. */
  getAccessToken(
    params: OauthParams,
    url: string,
    method: string,
    verifier: Verifier = VERIFIERS.laminas,
  ): IssuedToken & { consumer: ConsumerRow } {
    this.validateProtocolParams(params, [...BASE_REQUIRED, 'oauth_token', 'oauth_verifier']);
    const consumer = this.consumerByKey(params.get('oauth_consumer_key'));
    const tokenSecret = this.validateRequestToken(params.get('oauth_token'), consumer, params.get('oauth_verifier'));
    this.validateSignature(params, consumer.secret, method, url, tokenSecret, verifier);
    return { ...this.issueAccessToken(consumer), consumer };
  }

  /** Oauth::validateAccessTokenRequest: the consumer a signed REST call acts for. */
  validateAccessTokenRequest(params: OauthParams, url: string, method: string, verifier: Verifier = VERIFIERS.laminas): ConsumerRow {
    this.validateProtocolParams(params, [...BASE_REQUIRED, 'oauth_token']);
    const consumer = this.consumerByKey(params.get('oauth_consumer_key'));
    const token = this.getToken(params.get('oauth_token'));
    if (token.consumerId !== consumer.id) throw oauthError('Token is not associated with the specified consumer');
    if (token.type !== 'access') throw oauthError('Token is not an access token');
    if (token.revoked) throw oauthError('Access token has been revoked');
    this.validateSignature(params, consumer.secret, method, url, token.secret, verifier);
    return consumer;
  }

  /**
   * TokenUserContext for `Authorization: Bearer <token>` (2.4.4+): an integration's access token counts only when
   * oauth/consumer/enable_integration_as_bearer is on; otherwise, or for an unknown token, the caller is a guest.
   */
  bearerConsumer(token: string, allowIntegrationBearer: boolean): ConsumerRow | null {
    if (!allowIntegrationBearer) return null;
    const row = this.o.tables.tokenByValue(token);
    if (!row || row.type !== 'access' || row.revoked) return null;
    return this.o.tables.consumer(row.consumerId) ?? null;
  }

  /** Oauth::_validateProtocolParams */
  private validateProtocolParams(params: OauthParams, required: readonly string[] = BASE_REQUIRED): void {
    const version = params.get('oauth_version');
    // PHP `'1.0' != $version`: loose comparison, so '1', '1.00' and ' 1.0' pass as numeric strings.
    if (version !== undefined && (typeof version !== 'string' || !looseEqualsOnePointZero(version))) {
      throw inputError('The "%1" Oauth version isn\'t supported.', [phpString(version)]);
    }
    const missing = aggregateInputErrors(required.filter((p) => !params.has(p)).map(requiredField));
    if (missing) throw missing;

    const token = params.get('oauth_token');
    if (token !== undefined && str(token).length !== KEY_LENGTH) {
      throw inputError('The token length is invalid. Check the length and try again.');
    }
    const signatureMethod = params.get('oauth_signature_method')!;
    if (typeof signatureMethod !== 'string' || !SUPPORTED_SIGNATURE_METHODS.includes(signatureMethod)) {
      throw inputError('Signature method %1 is not supported', [phpString(signatureMethod)]);
    }
    const consumer = this.consumerByKey(params.get('oauth_consumer_key'));
    this.validateNonce(consumer, str(params.get('oauth_nonce')), str(params.get('oauth_timestamp')));
  }

  /** Nonce\Generator::validateNonce. Its catch-all turns the timestamp's input error into an OAuth 401. */
  private validateNonce(consumer: ConsumerRow, nonce: string, timestamp: string): void {
    const ts = phpIntCast(timestamp);
    if (ts <= 0 || ts > this.nowSeconds() + TIME_DEVIATION_SECONDS) {
      // Thrown as OauthInputException('Incorrect timestamp value in the oauth_timestamp parameter') inside a
      // try whose `catch (\Exception)` rethrows every non-OAuth exception as this one.
      throw oauthError('An error occurred validating the nonce');
    }
    if (this.o.tables.nonceExists(nonce, consumer.id)) {
      throw oauthError('The nonce is already being used by the consumer with ID %1', [String(consumer.id)]);
    }
    if (!this.o.tables.insertNonce(nonce, consumer.id, ts)) {
      // Duplicate key after MySQL truncated a nonce longer than the varchar(32) column.
      throw oauthError('An error occurred validating the nonce');
    }
  }

  /** Token\Provider::getConsumerByKey */
  private consumerByKey(key: PhpValue | undefined): ConsumerRow {
    const k = str(key);
    if (k.length !== KEY_LENGTH) throw oauthError('Consumer key is not the correct length');
    const consumer = this.o.tables.consumerByKey(k);
    if (!consumer) throw oauthError('A consumer having the specified key does not exist');
    return consumer;
  }

  /** Token\Provider::validateConsumer + Consumer::isValidForTokenExchange (whole seconds, strictly less). */
  private validateConsumer(consumer: ConsumerRow): void {
    const updated = Math.floor(consumer.updatedAt.getTime() / 1000);
    if (!(this.o.consumerExpirationSeconds > this.nowSeconds() - updated)) {
      throw oauthError('Consumer key has expired');
    }
  }

  /** Oauth::_validateSignature */
  private validateSignature(
    params: OauthParams,
    consumerSecret: string,
    method: string,
    url: string,
    tokenSecret: string | null,
    verifier: Verifier,
  ): void {
    const signatureMethod = str(params.get('oauth_signature_method'));
    if (!SUPPORTED_SIGNATURE_METHODS.includes(signatureMethod)) {
      throw inputError('Signature method %1 is not supported', [signatureMethod]);
    }
    const expected = verifier.signature(params, method, url, consumerSecret, tokenSecret);
    if (expected !== str(params.get('oauth_signature'))) {
      throw oauthError('The signature is invalid. Verify and try again.');
    }
  }

  /** Token\Provider::createRequestToken */
  private createRequestToken(consumer: ConsumerRow): IssuedToken {
    const row = this.integrationToken(consumer.id);
    if (row.type !== 'verifier') {
      throw oauthError('Cannot create request token because consumer token is not a verifier token');
    }
    this.o.tables.convertToRequest(row, consumer.callbackUrl);
    return { oauth_token: row.token, oauth_token_secret: row.secret };
  }

  /** Token\Provider::validateRequestToken */
  private validateRequestToken(requestToken: PhpValue | undefined, consumer: ConsumerRow, verifier: PhpValue | undefined): string {
    const token = this.getToken(requestToken);
    if (token.consumerId !== consumer.id) {
      throw oauthError('Request token is not associated with the specified consumer');
    }
    if (token.type !== 'request') throw oauthError('Token is already being used');
    if (typeof verifier !== 'string') throw oauthError('Verifier is invalid');
    if (verifier.length !== KEY_LENGTH) throw oauthError('Verifier is not the correct length');
    if (token.verifier !== verifier) throw oauthError('Token verifier and verifier token do not match');
    return token.secret;
  }

  /** Token\Provider::getAccessToken: converts the consumer's FIRST row, not necessarily the one presented. */
  private issueAccessToken(consumer: ConsumerRow): IssuedToken {
    const row = this.integrationToken(consumer.id);
    if (row.type !== 'request') {
      throw oauthError('Cannot get access token because consumer token is not a request token');
    }
    this.o.tables.convertToAccess(row);
    return { oauth_token: row.token, oauth_token_secret: row.secret };
  }

  /** Token\Provider::_getToken */
  private getToken(value: PhpValue | undefined): TokenRow {
    const token = str(value);
    if (token.length !== KEY_LENGTH) throw oauthError('Token is not the correct length');
    const row = this.o.tables.tokenByValue(token);
    if (!row) throw oauthError('Specified token does not exist');
    return row;
  }

  /** Token\Provider::getIntegrationTokenByConsumerId */
  private integrationToken(consumerId: number): TokenRow {
    const row = this.o.tables.firstToken(consumerId);
    if (!row) throw oauthError('A token with consumer ID %1 does not exist', [String(consumerId)]);
    return row;
  }
}

const BASE_REQUIRED = [
  'oauth_consumer_key',
  'oauth_signature',
  'oauth_signature_method',
  'oauth_nonce',
  'oauth_timestamp',
] as const;

/** PHP 8 `'1.0' != $v` for a string $v: numeric strings compare as numbers, others as strings. */
function looseEqualsOnePointZero(v: string): boolean {
  const numeric = /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$/.test(v);
  return numeric ? Number(v) === 1 : v === '1.0';
}

/** How PHP prints a value in a Phrase: arrays become "Array". */
const phpString = (v: PhpValue): string => (typeof v === 'string' ? v : 'Array');

/** The token endpoints' error body rules (Helper\Request::prepareErrorResponse). */
export function tokenEndpointError(e: unknown): { status: number; problem: string } {
  if (e instanceof MagentoException && e.kind === 'oauth') return { status: 401, problem: e.message };
  if (e instanceof MagentoException && e.kind === 'input') {
    const problem = e.errors.length ? e.errors.map((x) => aggregatedPart(x.raw, x.params)).join(', ') : e.message;
    return { status: 400, problem };
  }
  const message = e instanceof Error && e.message ? e.message : 'empty_message';
  return { status: 500, problem: `internal_error&message=${message}` };
}

function aggregatedPart(raw: string, params: MagentoException['params']): string {
  return new MagentoException('input', raw, params).message.replace(/\.+$/, '');
}
