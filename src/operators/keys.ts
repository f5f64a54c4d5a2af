// Operator keys: the one credential a CRM's backend holds. `mco_` + 256 random bits, shown once, stored as SHA-256
// (like API keys, src/accounts/tokens.ts), revocable; "last used" is written at most once per cache TTL per
// instance, off the request's path.
import { randomUUID } from 'node:crypto';
import { randomToken, sha256 } from '../accounts/tokens.js';
import type { Clock } from '../clock.js';
import type { OperatorKey } from '../storage/operators.js';
import type { Storage } from '../storage/types.js';

export const OPERATOR_KEY_PREFIX = 'mco_';
const NAME_MAX = 100;

export function newOperatorKey(): { key: string; hash: string; prefix: string } {
  const key = OPERATOR_KEY_PREFIX + randomToken(32);
  return { key, hash: sha256(key), prefix: key.slice(0, OPERATOR_KEY_PREFIX.length + 6) };
}

export function isOperatorKey(value: string): boolean {
  return value.startsWith(OPERATOR_KEY_PREFIX);
}

export class OperatorKeys {
  constructor(private readonly o: { storage: Storage; clock: Clock }) {}

  /** Creates a key; the key itself is returned once and never stored. */
  async create(name: string): Promise<{ key: string; record: OperatorKey }> {
    const { key, hash, prefix } = newOperatorKey();
    const record = await this.o.storage.operatorKeys.create({ id: randomUUID(), name: name.trim().slice(0, NAME_MAX) || 'operator key', prefix, hash });
    return { key, record };
  }

  list(): Promise<OperatorKey[]> {
    return this.o.storage.operatorKeys.list();
  }

  /** false when there is no such key, or it was revoked already. */
  revoke(id: string): Promise<boolean> {
    return this.o.storage.operatorKeys.revoke(id, this.o.clock.now());
  }

  async authenticate(value: string): Promise<OperatorKey | null> {
    if (!isOperatorKey(value) || value.length > 200) return null;
    return this.o.storage.operatorKeys.activeByHash(sha256(value));
  }

  touch(id: string): Promise<void> {
    return this.o.storage.operatorKeys.touch(id, this.o.clock.now());
  }
}

/** Per-instance cache of operator keys, as ApiKeyCache (src/http/auth.ts) is for API keys: the TTL bounds how long
 * a key revoked elsewhere keeps working here. */
export class OperatorKeyCache {
  private readonly entries = new Map<string, { key: OperatorKey; until: number }>();
  constructor(
    private readonly keys: OperatorKeys,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries = 1_000,
  ) {}

  async authenticate(value: string): Promise<OperatorKey | null> {
    const hash = sha256(value);
    const now = this.clock.now().getTime();
    const hit = this.entries.get(hash);
    if (hit && hit.until > now) return hit.key;
    const key = await this.keys.authenticate(value);
    if (key) {
      this.keys.touch(key.id).catch(() => {});
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(hash, { key, until: now + this.ttlMs });
    } else {
      this.entries.delete(hash);
    }
    return key;
  }
}
