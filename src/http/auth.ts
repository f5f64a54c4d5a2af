// API-key authentication for the CRM-facing API. Keys are looked up by their SHA-256; a per-instance LRU cache
// spares the database on the hot path, and its short TTL bounds how long a key revoked elsewhere keeps working here
// (and how stale a key's "last used" time may be). The cache's clock is the injected one, so tests move its time.
import type { Middleware } from 'koa';
import { LRUCache } from 'lru-cache';
import type { Accounts } from '../accounts/accounts.js';
import { sha256 } from '../accounts/tokens.js';
import { millisOf, type Clock } from '../clock.js';
import type { ApiKey } from '../storage/types.js';
import { HttpError } from './errors.js';
import type { BaseState } from './state.js';

/**
 * What a request learns from its API key: which key and whose. The cache keeps only this (a whole ApiKey, its name,
 * prefix, hash and dates, was about 460 bytes a key; 10,000 accounts calling fill the cache, issue 16).
 */
export type AuthenticatedKey = Pick<ApiKey, 'id' | 'accountId'>;

export class ApiKeyCache {
  private readonly entries: LRUCache<string, AuthenticatedKey>;

  constructor(
    private readonly accounts: Accounts,
    clock: Clock,
    ttlMs: number,
    maxEntries = 10_000,
  ) {
    // ttlResolution 0: every lookup reads the clock, so a moved test clock takes effect at once.
    this.entries = new LRUCache({ max: maxEntries, ttl: ttlMs, ttlResolution: 0, perf: { now: millisOf(clock) } });
  }

  async authenticate(value: string): Promise<AuthenticatedKey | null> {
    const hash = sha256(value);
    const hit = this.entries.get(hash);
    if (hit) return hit;
    const key = await this.accounts.authenticateApiKey(value);
    if (!key) return null;
    // "Last used" for the account page, written at most once per TTL per instance: off the request's path.
    this.accounts.touchApiKey(key.id).catch(() => {});
    const known: AuthenticatedKey = { id: key.id, accountId: key.accountId };
    this.entries.set(hash, known);
    return known;
  }

  /** `value`'s key when it is cached (and not past its TTL), without going to the database. */
  cached(value: string): AuthenticatedKey | undefined {
    return this.entries.get(sha256(value));
  }

  /** Drops the keys past their TTL (an idle instance holds none, see StoreGateway.purgeStale). */
  purgeStale(): void {
    this.entries.purgeStale();
  }

  /** Forget a key at once on this instance (revoked here); other instances forget it within the TTL. */
  forget(keyHash: string): void {
    this.entries.delete(keyHash);
  }

  /** How many keys this instance holds (tests: the bound is `maxEntries`). */
  get size(): number {
    return this.entries.size;
  }
}

const BEARER = { 'WWW-Authenticate': 'Bearer realm="magento-connector"' };

export function requireApiKey(cache: ApiKeyCache): Middleware<BaseState & { apiKey: AuthenticatedKey; accountId: string }> {
  return async function requireApiKey(ctx, next) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'));
    if (!match) throw new HttpError('unauthorized', 'Send your API key as "Authorization: Bearer <key>".', { headers: BEARER });
    const key = await cache.authenticate(match[1]!);
    if (!key) throw new HttpError('unauthorized', 'This API key is not valid (wrong, or revoked).', { headers: BEARER });
    ctx.state.apiKey = key;
    ctx.state.accountId = key.accountId;
    await next();
  };
}
