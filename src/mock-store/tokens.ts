// Magento's integration tables, modelled row for row: `integration`, `oauth_consumer`, `oauth_token`,
// `oauth_nonce`. The operations are the ones Magento's models run, with their quirks:
//  - "the" token of a consumer is whatever `SELECT ... WHERE consumer_id = ? AND user_type = ?` returns first
//    (ResourceModel\Oauth\Token::selectTokenByConsumerIdAndUserType, no ORDER BY): in practice the oldest row;
//  - lookups by key, token or nonce go through MySQL's case-insensitive utf8_general_ci collation;
//  - the nonce column is varchar(32) and Magento's connection runs with SQL_MODE='' (no strict mode), so longer
//    nonces are silently truncated on insert, and two that share their first 32 characters collide.
import { randomInt } from 'node:crypto';
import { oauthError } from './errors.js';
import type { VerifierName } from './verifiers.js';

export type TokenType = 'verifier' | 'request' | 'access';

export interface ConsumerRow {
  id: number;
  name: string;
  key: string;
  secret: string;
  callbackUrl: string | null;
  createdAt: Date;
  /** Set when the callback POST starts: the request-token window is measured from here. */
  updatedAt: Date;
}

export interface TokenRow {
  id: number;
  consumerId: number;
  type: TokenType;
  token: string;
  secret: string;
  verifier: string;
  callbackUrl: string;
  revoked: boolean;
  authorized: boolean;
  /** UserContextInterface::USER_TYPE_INTEGRATION */
  userType: 1;
  createdAt: Date;
}

export interface NonceRow {
  nonce: string;
  consumerId: number;
  timestamp: number;
}

export type IntegrationStatus = 'inactive' | 'active';

export interface IntegrationRow {
  id: number;
  name: string;
  email: string;
  /** Magento calls the Callback URL the integration's "endpoint". */
  endpoint: string;
  identityLinkUrl: string;
  status: IntegrationStatus;
  consumerId: number;
  /** ACL resources granted to the integration ('all' = "Resource Access: All"). */
  resources: string[] | 'all';
  /** The signature verifier this integration's calls are judged by; null = the store's. Not Magento: a test knob. */
  verifier: VerifierName | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Magento\Framework\Oauth\Helper\Oauth lengths. */
export const KEY_LENGTH = 32;
const NONCE_COLUMN_LENGTH = 32;
/** OauthHelper::CALLBACK_ESTABLISHED */
const CALLBACK_ESTABLISHED = 'oob';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
/** Math\Random::getRandomString(32, CHARS_DIGITS . CHARS_LOWERS) */
export function randomKey(length = KEY_LENGTH): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** utf8_general_ci equality for the ASCII values these columns hold: case and trailing spaces ignored. */
const ciKey = (s: string): string => s.toLowerCase().replace(/ +$/, '');

export class MagentoTables {
  private readonly integrations = new Map<number, IntegrationRow>();
  private readonly consumers = new Map<number, ConsumerRow>();
  /** Kept in insertion (entity_id) order: "the first row" is the first match in this array. */
  private tokens: TokenRow[] = [];
  /** oauth_nonce rows by (consumer_id, nonce) as the unique key compares them. */
  private nonces = new Map<string, NonceRow>();
  private nextId = { integration: 1, consumer: 1, token: 1 };

  constructor(private readonly now: () => Date) {}

  // ---- integration ------------------------------------------------------------------------------------------

  addIntegration(row: Omit<IntegrationRow, 'id' | 'createdAt' | 'updatedAt'>): IntegrationRow {
    const now = this.now();
    const saved = { ...row, id: this.nextId.integration++, createdAt: now, updatedAt: now };
    this.integrations.set(saved.id, saved);
    return saved;
  }

  integration(id: number): IntegrationRow | undefined {
    return this.integrations.get(id);
  }

  integrationByName(name: string): IntegrationRow | undefined {
    return [...this.integrations.values()].find((i) => ciKey(i.name) === ciKey(name));
  }

  integrationByConsumerId(consumerId: number): IntegrationRow | undefined {
    return [...this.integrations.values()].find((i) => i.consumerId === consumerId);
  }

  listIntegrations(): IntegrationRow[] {
    return [...this.integrations.values()];
  }

  updateIntegration(id: number, fields: Partial<Pick<IntegrationRow, 'resources' | 'verifier' | 'name' | 'email' | 'endpoint' | 'identityLinkUrl'>>): void {
    const row = this.integrations.get(id);
    if (row) Object.assign(row, fields, { updatedAt: this.now() });
  }

  setIntegrationStatus(id: number, status: IntegrationStatus): void {
    const row = this.integrations.get(id);
    if (row) Object.assign(row, { status, updatedAt: this.now() });
  }

  /** Integration delete: the integration and its consumer; the consumer's tokens and nonces go by FK cascade. */
  deleteIntegration(id: number): boolean {
    const row = this.integrations.get(id);
    if (!row) return false;
    this.integrations.delete(id);
    this.deleteConsumer(row.consumerId);
    return true;
  }

  // ---- oauth_consumer ---------------------------------------------------------------------------------------

  /** OauthService::createConsumer */
  createConsumer(name: string, callbackUrl: string | null, fixed?: { key: string; secret: string }): ConsumerRow {
    const now = this.now();
    const row: ConsumerRow = {
      id: this.nextId.consumer++,
      name,
      key: fixed?.key ?? randomKey(),
      secret: fixed?.secret ?? randomKey(),
      callbackUrl,
      createdAt: now,
      updatedAt: now,
    };
    this.consumers.set(row.id, row);
    return row;
  }

  consumer(id: number): ConsumerRow | undefined {
    return this.consumers.get(id);
  }

  consumerByKey(key: string): ConsumerRow | undefined {
    const k = ciKey(key);
    return [...this.consumers.values()].find((c) => ciKey(c.key) === k);
  }

  touchConsumer(id: number): void {
    const row = this.consumers.get(id);
    if (row) row.updatedAt = this.now();
  }

  private deleteConsumer(id: number): void {
    this.consumers.delete(id);
    this.tokens = this.tokens.filter((t) => t.consumerId !== id);
    for (const [key, row] of this.nonces) if (row.consumerId === id) this.nonces.delete(key);
  }

  // ---- oauth_token ------------------------------------------------------------------------------------------

  tokensOf(consumerId: number): TokenRow[] {
    return this.tokens.filter((t) => t.consumerId === consumerId);
  }

  /** Token::loadByConsumerIdAndUserType: the first row, whatever its type. */
  firstToken(consumerId: number): TokenRow | undefined {
    return this.tokens.find((t) => t.consumerId === consumerId && t.userType === 1);
  }

  /** Token::load($token, 'token') */
  tokenByValue(token: string): TokenRow | undefined {
    const k = ciKey(token);
    return this.tokens.find((t) => ciKey(t.token) === k);
  }

  /** Token::createVerifierToken: reuse the consumer's (first) verifier row, else insert a new one. */
  createVerifierToken(consumerId: number): TokenRow {
    const existing = this.tokens.find((t) => t.consumerId === consumerId && t.type === 'verifier');
    if (existing) return existing;
    return this.insertToken({ consumerId, type: 'verifier', verifier: randomKey() });
  }

  insertToken(
    fields: Pick<TokenRow, 'consumerId' | 'type' | 'verifier'> & Partial<Pick<TokenRow, 'token' | 'secret'>>,
  ): TokenRow {
    const row: TokenRow = {
      id: this.nextId.token++,
      token: randomKey(),
      secret: randomKey(),
      callbackUrl: CALLBACK_ESTABLISHED,
      revoked: false,
      authorized: false,
      userType: 1,
      createdAt: this.now(),
      ...fields,
    };
    this.tokens.push(row);
    return row;
  }

  /** Token::createRequestToken: same row, new type/token/secret; verifier and created_at stay. */
  convertToRequest(row: TokenRow, consumerCallbackUrl: string | null): TokenRow {
    Object.assign(row, {
      type: 'request',
      token: randomKey(),
      secret: randomKey(),
      callbackUrl: consumerCallbackUrl || CALLBACK_ESTABLISHED,
    });
    return row;
  }

  /** Token::convertToAccess */
  convertToAccess(row: TokenRow): TokenRow {
    if (row.type !== 'request') {
      throw oauthError('Cannot convert to access token due to token is not request type');
    }
    Object.assign(row, { type: 'access', token: randomKey(), secret: randomKey(), userType: 1 });
    return row;
  }

  deleteToken(row: TokenRow): void {
    this.tokens = this.tokens.filter((t) => t !== row);
  }

  /** ResourceModel\Oauth\Token::deleteOldEntries: request-type rows created at least `minutes` ago. */
  deleteOldEntries(minutes: number): number {
    if (minutes <= 0) return 0;
    const limit = this.now().getTime() - minutes * 60_000;
    const before = this.tokens.length;
    this.tokens = this.tokens.filter((t) => !(t.type === 'request' && t.createdAt.getTime() <= limit));
    return before - this.tokens.length;
  }

  // ---- oauth_nonce ------------------------------------------------------------------------------------------

  /** Nonce::loadByCompositeKey: the full presented nonce against the stored (possibly truncated) column. */
  nonceExists(nonce: string, consumerId: number): boolean {
    return this.nonces.has(`${consumerId}:${ciKey(nonce)}`);
  }

  /** INSERT into oauth_nonce; false when the unique key (nonce, consumer_id) rejects it. */
  insertNonce(nonce: string, consumerId: number, timestamp: number): boolean {
    const stored = nonce.slice(0, NONCE_COLUMN_LENGTH);
    const key = `${consumerId}:${ciKey(stored)}`;
    if (this.nonces.has(key)) return false;
    this.nonces.set(key, { nonce: stored, consumerId, timestamp });
    return true;
  }
}
