// An account's stores as the API and the account page see them: list, one, forget. Both surfaces go through here,
// so disconnecting a store on the account page is exactly `DELETE /api/stores/:id`.
//
// TEMPORARY seam: the store gateway is gaining list/get/delete/view operations of its own (with the `reauthorizing`
// rule); once it has them, this file's bodies become calls to them (or the file goes and the routes call the
// gateway). It is the only place in src/http that reads bindings for these jobs.
import { fixText } from '../activation/fixes.js';
import { StoreNotFoundError } from '../calls/errors.js';
import type { StoreCalls } from '../calls/store-calls.js';
import type { Logger } from '../log.js';
import type { Binding, Storage } from '../storage/types.js';

/** What a caller sees of a binding: never a secret or a token. */
export function storeView(b: Binding) {
  return {
    id: b.id,
    state: b.state,
    storeBaseUrl: b.storeBaseUrl,
    consumerKey: b.consumerKey,
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
    activatedAt: b.activatedAt?.toISOString() ?? null,
    revokedAt: b.revokedAt?.toISOString() ?? null,
    /** A newer Activate/Reauthorize is being completed while the current token keeps working. */
    reauthorizing: b.state === 'active' && (b.verifier !== null || b.requestToken !== null),
    lastError: b.lastError
      ? { message: b.lastError, at: b.lastErrorAt?.toISOString() ?? null, fix: fixText(b.fix) }
      : null,
  };
}

export type StoreView = ReturnType<typeof storeView>;

export interface StoreDirectory {
  list(accountId: string): Promise<StoreView[]>;
  /** Throws StoreNotFoundError for another account's store, as for none. */
  get(accountId: string, id: string): Promise<StoreView>;
  /** Forgets the binding and its tokens; throws StoreNotFoundError when the account has no such store. */
  delete(accountId: string, id: string): Promise<void>;
}

export function storeDirectory({ storage, calls, logger }: { storage: Storage; calls: StoreCalls; logger: Logger }): StoreDirectory {
  return {
    async list(accountId) {
      return (await storage.bindings.listByAccount(accountId)).map(storeView);
    },
    async get(accountId, id) {
      calls.forget(id); // a read for a person or a program is fresh, not the proxy's cached copy
      return storeView(await calls.binding(accountId, id));
    },
    async delete(accountId, id) {
      const deleted = await storage.bindings.delete(id, accountId);
      calls.forget(id);
      if (!deleted) throw new StoreNotFoundError();
      logger.info({ bindingId: id, accountId }, 'store binding deleted by its account');
    },
  };
}
