// What a caller (the API, the account page) sees of a binding: never a secret or a token.
import { fixText } from '../activation/fixes.js';
import { isReauthorizing } from '../activation/transitions.js';
import type { SigningProfileName } from '../protocol/signing-profiles.js';
import type { Binding, BindingEvent, BindingEventKind, BindingOrigin, BindingState } from '../storage/types.js';

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
  /** The store's signature verifier (docs/magento-protocol.md §7a); profile null until detected. */
  signing: { profile: SigningProfileName | null; detectedAt: string | null };
  /** `callback`: activated from the Magento admin (callback, popup); `credentials`: connected with pasted credentials. */
  origin: BindingOrigin;
  /** The last revocation probe's warning (the store stays active), until a probe succeeds again. */
  probeWarning: { message: string; at: string | null } | null;
  /**
   * The store as marked unavailable for every instance (the state store.unavailable / store.available report);
   * null while available. `availability` in the API is this instance's circuit breaker.
   */
  unavailable: { since: string; reason: string | null } | null;
}

/** GET /api/stores/:id: the store and the newest entries of its activation timeline (newest first). */
export interface StoreDetailView extends StoreView {
  timeline: { at: string; kind: BindingEventKind; detail: string }[];
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
    signing: { profile: b.signingProfile, detectedAt: b.profileDetectedAt?.toISOString() ?? null },
    origin: b.origin,
    probeWarning: b.probeWarning ? { message: b.probeWarning, at: b.probeWarningAt?.toISOString() ?? null } : null,
    unavailable: b.unavailableSince ? { since: b.unavailableSince.toISOString(), reason: b.unavailableReason } : null,
  };
}

export function describeTimeline(events: BindingEvent[]): StoreDetailView['timeline'] {
  return events.map((e) => ({ at: e.at.toISOString(), kind: e.kind, detail: e.detail }));
}

export function describeStoreDetail(b: Binding, events: BindingEvent[]): StoreDetailView {
  return { ...describeStore(b), timeline: describeTimeline(events) };
}
