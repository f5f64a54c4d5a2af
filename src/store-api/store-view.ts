// What a caller (the API, the account page) sees of a binding: never a secret or a token.
import { fixText } from '../activation/fixes.js';
import { isReauthorizing } from '../activation/transitions.js';
import type { Binding, BindingState } from '../storage/types.js';

export interface StoreView {
  id: string;
  accountId: string | null;
  state: BindingState;
  storeBaseUrl: string;
  consumerKey: string;
  createdAt: string;
  updatedAt: string;
  activatedAt: string | null;
  revokedAt: string | null;
  /** A newer Activate/Reauthorize is being completed while the current token keeps working. */
  reauthorizing: boolean;
  lastError: { message: string; at: string | null; fix: string | null } | null;
}

export function describeStore(b: Binding): StoreView {
  return {
    id: b.id,
    accountId: b.accountId,
    state: b.state,
    storeBaseUrl: b.storeBaseUrl,
    consumerKey: b.consumerKey,
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
    activatedAt: b.activatedAt?.toISOString() ?? null,
    revokedAt: b.revokedAt?.toISOString() ?? null,
    reauthorizing: isReauthorizing(b),
    lastError: b.lastError ? { message: b.lastError, at: b.lastErrorAt?.toISOString() ?? null, fix: fixText(b.fix) } : null,
  };
}
