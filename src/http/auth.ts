// API-key authentication for the CRM-facing API. Keys are looked up by their SHA-256; a per-instance cache spares
// the database on the hot path, and its short TTL bounds how long a key revoked elsewhere keeps working here (and
// how stale a key's "last used" time may be).
import type { Context, Next } from 'koa';
import type { Accounts } from '../accounts/accounts.js';
import { sha256 } from '../accounts/tokens.js';
import type { Clock } from '../clock.js';
import type { ApiKey } from '../storage/types.js';
import { ConnectorError } from './errors.js';

export class ApiKeyCache {
  private readonly entries = new Map<string, { key: ApiKey; until: number }>();
  constructor(
    private readonly accounts: Accounts,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  async authenticate(value: string): Promise<ApiKey | null> {
    const hash = sha256(value);
    const now = this.clock.now().getTime();
    const hit = this.entries.get(hash);
    if (hit && hit.until > now) return hit.key;
    const key = await this.accounts.authenticateApiKey(value);
    if (key) {
      // "Last used" for the account page, written at most once per TTL per instance: off the request's path.
      this.accounts.touchApiKey(key.id).catch(() => {});
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(hash, { key, until: now + this.ttlMs });
    } else {
      this.entries.delete(hash);
    }
    return key;
  }

  /** Forget a key at once on this instance (revoked here); other instances forget it within the TTL. */
  forget(keyHash: string): void {
    this.entries.delete(keyHash);
  }
}

const unauthorized = (message: string) =>
  new ConnectorError(401, 'unauthorized', message, { 'WWW-Authenticate': 'Bearer realm="magento-connector"' });

export function requireApiKey(cache: ApiKeyCache) {
  return async function requireApiKey(ctx: Context, next: Next): Promise<void> {
    const header = ctx.get('Authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('Send your API key as "Authorization: Bearer <key>".');
    const key = await cache.authenticate(match[1]!);
    if (!key) throw unauthorized('This API key is not valid (wrong, or revoked).');
    ctx.state.apiKey = key;
    ctx.state.accountId = key.accountId;
    await next();
  };
}
