// The store views an integration can see (GET /V1/store/storeViews), for GET /api/stores/:id and the account page.
// Magento grants that call with Stores > Settings > All Stores (Magento_Backend::store); without it, the answer says
// "not granted" plainly. Cached per binding and access (a reauthorize is another entry) for a short TTL, failures
// for less, so a page or API GET does not call Magento every time.
import { LRUCache } from 'lru-cache';
import { millisOf, type Clock } from '../clock.js';
import type { Binding } from '../storage/types.js';
import { CallError, readMagentoError } from './errors.js';
import type { StoreGateway } from './gateway.js';

export interface StoreViewEntry {
  id: number;
  code: string;
  name: string;
  websiteId: number;
  storeGroupId: number;
  active: boolean;
}

export type StoreViewsInfo =
  | { status: 'ok'; views: StoreViewEntry[]; checkedAt: string }
  | { status: 'not_granted'; views: null; message: string; checkedAt: string }
  | { status: 'not_connected'; views: null; message: string; checkedAt: string }
  | { status: 'error'; views: null; message: string; checkedAt: string };

const NOT_GRANTED =
  'Not granted: this integration may not read the store views. In the Magento admin, give the integration the ' +
  'resource Stores > Settings > All Stores (Magento_Backend::store) and click Reauthorize.';

export class StoreViews {
  private readonly cache: LRUCache<string, StoreViewsInfo>;
  constructor(
    private readonly gateway: StoreGateway,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {
    this.cache = new LRUCache({ max: 10_000, ttl: ttlMs, perf: { now: millisOf(this.clock) } });
  }

  /** The store views of the account's store (StoreNotFoundError for another account's). */
  async of(accountId: string, storeId: string): Promise<StoreViewsInfo> {
    const binding = await this.gateway.ownedBinding(accountId, storeId);
    const checkedAt = this.clock.now().toISOString();
    if (binding.state !== 'active') {
      return { status: 'not_connected', views: null, message: 'The store is not connected, so its store views cannot be read.', checkedAt };
    }
    const key = cacheKey(binding);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const info = await this.fetch(accountId, storeId, checkedAt);
    // A failure is kept for a fifth of the TTL: retried soon, but not on every GET.
    this.cache.set(key, info, info.status === 'error' ? { ttl: Math.max(1, Math.floor(this.ttlMs / 5)) } : {});
    return info;
  }

  private async fetch(accountId: string, storeId: string, checkedAt: string): Promise<StoreViewsInfo> {
    try {
      const response = await this.gateway.send(accountId, storeId, { method: 'GET', path: 'V1/store/storeViews' });
      const type = response.headers['content-type'];
      const contentType = Array.isArray(type) ? type[0] : type;
      if (response.status === 401) {
        const error = readMagentoError(response.body, contentType);
        if (error && /isn't authorized to access/i.test(error.message)) return { status: 'not_granted', views: null, message: NOT_GRANTED, checkedAt };
      }
      if (response.status !== 200) return { status: 'error', views: null, message: `Magento answered ${response.status} for GET V1/store/storeViews.`, checkedAt };
      const list: unknown = JSON.parse(response.body.toString('utf8'));
      if (!Array.isArray(list)) return { status: 'error', views: null, message: 'Magento answered GET V1/store/storeViews with something that is not a list.', checkedAt };
      const views = list
        .filter((v): v is Record<string, unknown> => !!v && typeof v === 'object')
        // The admin store (id 0) is Magento's own, never a storefront.
        .filter((v) => v.code !== 'admin' && v.id !== 0)
        .map((v) => ({
          id: Number(v.id),
          code: String(v.code),
          name: String(v.name ?? v.code),
          websiteId: Number(v.website_id ?? 0),
          storeGroupId: Number(v.store_group_id ?? 0),
          active: Number(v.is_active ?? 1) === 1,
        }));
      return { status: 'ok', views, checkedAt };
    } catch (err) {
      if (err instanceof CallError) return { status: 'error', views: null, message: err.message, checkedAt };
      if (err instanceof SyntaxError) return { status: 'error', views: null, message: 'Magento answered GET V1/store/storeViews with invalid JSON.', checkedAt };
      throw err;
    }
  }
}

function cacheKey(b: Binding): string {
  return `${b.id}:${b.activatedAt?.getTime() ?? 0}:${b.updatedAt.getTime()}`;
}
