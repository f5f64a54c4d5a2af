// The activation state machine, one binding per Magento integration (keyed by consumer key):
//
//   callback ──> pending ──(request token fetched right away)──> request_token ──(merchant signs in)──> active
//                   └──────────── failed (with the fix to offer) <────────┘                     revoked <──┘
//
// Every function here is pure: `(current binding, event) -> patch | null` (null: nothing to change). The I/O steps
// (intake.ts, request-token.ts, access-token.ts, revocation.ts) decide which event happened and apply its patch
// with `bindings.modify`, which re-reads and re-runs the function when another writer moved the row on. So this file
// is the one place a state change is decided (and where a lifecycle event for it would be derived).
//
// Magento checks its 300 s window only on the request-token call and marks the integration Active the moment the
// access-token call succeeds (docs/magento-protocol.md §4, §5); what a half-finished activation leaves in Magento is
// §4a. Magento shows Reauthorize only for an Active integration, Activate otherwise: a fix names the button Magento
// shows in that state.
import type { SigningProfileName } from '../protocol/signing-profiles.js';
import type { Binding, BindingPatch, Fix, TokenPair } from '../storage/types.js';
import type { WebhookEventType as LifecycleEventType } from '../storage/webhooks.js';

/** A step claimed by another instance whose claim has not run out. */
export function isClaimed(b: Binding, now: Date): boolean {
  return b.step !== null && b.stepUntil !== null && b.stepUntil > now;
}

export function windowHasClosed(b: Binding, now: Date, windowMs: number): boolean {
  return now.getTime() >= b.callbackAt.getTime() + windowMs;
}

/**
 * A newer Activate/Reauthorize is being completed on an active binding while the current token keeps working (until
 * Magento kills it: Reauthorize deletes the old token the moment it is clicked, §2).
 */
export function isReauthorizing(b: Binding): boolean {
  return b.state === 'active' && (b.verifier !== null || b.requestToken !== null);
}

/**
 * A callback reached us after the binding was activated: the merchant clicked Reauthorize, which made the integration
 * inactive in Magento until an access token is issued again. An unfinished one leaves Magento offering Activate.
 */
export function reauthorizedSinceActivation(b: Binding): boolean {
  return isReauthorizing(b) || (b.activatedAt !== null && b.callbackAt > b.activatedAt);
}

/** The verifier of a request or access token we already hold: a replay of a callback we have handled. */
export function isHandledReplay(b: Binding, verifier: string): boolean {
  const handled = verifier === b.requestToken?.verifier || verifier === b.accessToken?.verifier;
  return handled && verifier !== b.verifier;
}

/** Nothing in progress and nothing to finish with: signing in cannot complete this activation. */
export function cannotBeCompleted(b: Binding): boolean {
  return (b.state === 'failed' || b.state === 'revoked') && !b.verifier && !b.requestToken;
}

/** The fix for a binding that cannot go on, when its last error left none. */
export function fallbackFix(b: Binding): Fix {
  return b.state === 'active' ? 'reauthorize' : 'activate_again';
}

function releaseStep(cur: Binding, step: Binding['step']): BindingPatch {
  return cur.step === step ? { step: null, stepUntil: null } : {};
}

/** Forgets the verifier `verifier` (if it is still the newest) and the retry that went with it. */
function dropVerifier(cur: Binding, verifier: string): BindingPatch {
  return cur.verifier === verifier ? { verifier: null, nextAttemptAt: null } : {};
}

// ---- the callback ------------------------------------------------------------------------------------------------

/**
 * A callback for a known consumer key (Reauthorize, a second Activate, a replay), already checked to carry the same
 * secret and store URL.
 */
export function callbackReceived(cur: Binding, event: { verifier: string; now: Date; accountId?: string | null }): BindingPatch | null {
  const { verifier, now } = event;
  // A binding from before issue 13 (or from the shared URL) that nobody owns yet is adopted by the account whose URL
  // the callback came through (its consumer secret has just been checked). An owned one never changes hands.
  const adopt: BindingPatch = event.accountId && cur.accountId === null ? { accountId: event.accountId } : {};
  const patch0 = callbackPatch(cur, verifier, now);
  if (!patch0) return Object.keys(adopt).length ? adopt : null;
  return { ...patch0, ...adopt };
}

function callbackPatch(cur: Binding, verifier: string, now: Date): BindingPatch | null {
  // Nothing to do for a replay (Magento never posts a used verifier again: Activate reuses only unused verifier rows).
  if (isHandledReplay(cur, verifier)) return null;
  // The verifier we are still fetching for: a replay, or Activate clicked again (Magento reuses its unused verifier
  // row and restarts its 300 s window when it posts). Our window restarts with Magento's, and a fetch that is backing
  // off is due at once (the store may be back); a claim in progress is left alone.
  if (verifier === cur.verifier) {
    if (cur.callbackAt >= now) return null;
    return isClaimed(cur, now) ? { callbackAt: now } : { callbackAt: now, nextAttemptAt: now, stepAttempts: 0 };
  }
  const patch: BindingPatch = {
    verifier,
    callbackAt: now,
    nextAttemptAt: now,
    stepAttempts: 0,
    // An active binding keeps its token until Magento issues a new one: a duplicated callback must not break it.
    // Failed and revoked bindings start over. A held request token stays usable (§4a).
    state: cur.state === 'failed' || cur.state === 'revoked' ? 'pending' : cur.state,
  };
  if (cur.state !== 'active') Object.assign(patch, { lastError: null, lastErrorAt: null, fix: null, accessOutcomeUnknown: false });
  return patch;
}

// ---- the request token -----------------------------------------------------------------------------------------

/** This instance takes the request-token step; if it dies mid-call, the binding is due again when the claim ends. */
export function requestTokenClaimed(cur: Binding, event: { now: Date; leaseMs: number }): BindingPatch {
  const until = new Date(event.now.getTime() + event.leaseMs);
  return { step: 'request_token', stepUntil: until, stepAttempts: cur.stepAttempts + 1, nextAttemptAt: until };
}

export function requestTokenIssued(cur: Binding, event: { pair: TokenPair; verifier: string; at: Date }): BindingPatch {
  const active = cur.state === 'active';
  return {
    requestToken: { ...event.pair, verifier: event.verifier, at: event.at },
    // A callback with another verifier may have arrived during the call. It is dropped, not fetched next: this call
    // has just turned Magento's first token row into a request row, so a request-token call for any other verifier
    // can only fail "not a verifier token" (§4a). (A genuine repeat of the Activate click carries the same verifier.)
    verifier: null,
    nextAttemptAt: null,
    ...releaseStep(cur, 'request_token'),
    state: active ? 'active' : 'request_token',
    ...(active ? {} : { lastError: null, lastErrorAt: null, fix: null, accessOutcomeUnknown: false }),
  };
}

export type RequestTokenFailure =
  /** The store could not be reached (or answered nonsense) and there is time left: try again at `retryAt`. */
  | { kind: 'retry'; retryAt: Date; message: string }
  /** Magento says its first token row is no verifier (§4a). */
  | { kind: 'not_a_verifier'; message: string }
  /** Anything else that ends this attempt for good. */
  | { kind: 'final'; message: string; fix: Fix };

export function requestTokenFailed(
  cur: Binding,
  event: { verifier: string; failure: RequestTokenFailure; now: Date },
): BindingPatch {
  const { verifier, failure, now } = event;
  switch (failure.kind) {
    case 'retry':
      return {
        ...releaseStep(cur, 'request_token'),
        nextAttemptAt: cur.verifier === verifier ? failure.retryAt : cur.nextAttemptAt,
        lastError: failure.message,
        lastErrorAt: now,
      };
    case 'not_a_verifier':
      // Either we already hold a request token for that first row (activation abandoned after the request token,
      // then Activate again), the binding is active (a replayed callback), or the request token was lost on the way
      // back to us: only the last one cannot be finished.
      if (cur.requestToken || cur.state === 'active') return { ...releaseStep(cur, 'request_token'), ...dropVerifier(cur, verifier) };
      return failed(cur, verifier, failure.message, 'recreate_integration', now);
    case 'final':
      return finalRequestTokenFailure(cur, verifier, failure.message, failure.fix, now);
  }
}

/** Magento's 300 s window closed without a request token for `verifier`. */
export function windowClosed(cur: Binding, event: { verifier: string; now: Date }): BindingPatch {
  // The last transport error explains better why than the window does.
  const message = cur.lastError ?? 'Magento\'s time limit for this activation (300 seconds after the callback) has passed.';
  return finalRequestTokenFailure(cur, event.verifier, message, cur.lastError ? 'check_store' : 'activate_again', event.now);
}

function finalRequestTokenFailure(cur: Binding, verifier: string, message: string, fix: Fix, now: Date): BindingPatch {
  // An active binding, or one that still holds a usable request token, is not failed by a newer callback's trouble:
  // only that callback's verifier is dropped.
  if (cur.state === 'active' || cur.requestToken) {
    return {
      ...releaseStep(cur, 'request_token'),
      ...dropVerifier(cur, verifier),
      lastError: message,
      lastErrorAt: now,
      // A Reauthorize of an active binding that will not finish: Magento has already deleted the old token, so the
      // popup must not report the store as connected, and the merchant needs the fix.
      ...(cur.state === 'active' && !cur.requestToken && cur.verifier === verifier ? { fix } : {}),
    };
  }
  return failed(cur, verifier, message, fix, now);
}

function failed(cur: Binding, verifier: string, message: string, fix: Fix, now: Date): BindingPatch {
  // A newer callback arrived meanwhile: its own attempt decides the binding's fate.
  if (cur.verifier && cur.verifier !== verifier) return releaseStep(cur, 'request_token');
  return { ...releaseStep(cur, 'request_token'), state: 'failed', ...dropVerifier(cur, verifier), lastError: message, lastErrorAt: now, fix };
}

// ---- the access token ------------------------------------------------------------------------------------------

/**
 * The claim also claims the binding for the account when nobody owns it yet (the shared URL): conditional on the
 * row's version, so of two accounts signing in at once exactly one owns it, forever (issue 13).
 */
export function accessTokenClaimed(cur: Binding, event: { now: Date; leaseMs: number; accountId?: string }): BindingPatch {
  return {
    step: 'access_token',
    stepUntil: new Date(event.now.getTime() + event.leaseMs),
    ...(cur.accountId === null && event.accountId ? { accountId: event.accountId } : {}),
  };
}

export function accessTokenIssued(
  cur: Binding,
  event: { accountId: string; pair: TokenPair; requestToken: string; verifier: string; now: Date },
): BindingPatch {
  return {
    state: 'active',
    accountId: event.accountId,
    accessToken: { ...event.pair, verifier: event.verifier },
    requestToken: cur.requestToken?.token === event.requestToken ? null : cur.requestToken,
    ...releaseStep(cur, 'access_token'),
    activatedAt: event.now,
    revokedAt: null,
    lastError: null,
    lastErrorAt: null,
    fix: null,
    accessOutcomeUnknown: false,
    // A pasted store the merchant later gave our URLs and activated through Magento's handshake is one from now on:
    // its fixes then speak of Reauthorize and the popup, no longer of pasting tokens.
    ...(cur.origin === 'credentials' ? { origin: 'callback' as const } : {}),
  };
}

export interface AccessTokenFailure {
  message: string;
  fix: Fix | null;
  /** A transport failure: the request token is still ours to try again with. */
  keepRequestToken: boolean;
  /** The call may have reached Magento although its answer was lost. */
  outcomeUnknown: boolean;
}

export function accessTokenFailed(
  cur: Binding,
  event: { requestToken: string; failure: AccessTokenFailure; now: Date },
): BindingPatch {
  const { failure, now } = event;
  const ours = cur.requestToken?.token === event.requestToken;
  const patch: BindingPatch = {
    ...releaseStep(cur, 'access_token'),
    requestToken: ours && !failure.keepRequestToken ? null : cur.requestToken,
    lastError: failure.message,
    lastErrorAt: now,
    fix: failure.fix,
    accessOutcomeUnknown: failure.outcomeUnknown,
  };
  if (cur.state !== 'active' && !patch.requestToken && !cur.verifier) patch.state = 'failed';
  return patch;
}

// ---- pasted credentials (src/activation/credentials.ts) ----------------------------------------------------------

/**
 * The integration's four credentials were pasted and one signed check with them worked: the new binding (the row
 * `bindings.insert` starts from, nothing held, so there is no current row to read) becomes active for `accountId` at once, holding the access token
 * Magento minted itself (no callback, no verifier), with the signing profile that call detected. Its lifecycle event
 * is `store.connected` (transitionEvent: a new access token on a binding never activated).
 */
export function credentialsConnected(event: { accountId: string; pair: TokenPair; profile: SigningProfileName; now: Date }): BindingPatch {
  return {
    state: 'active',
    accountId: event.accountId,
    accessToken: { ...event.pair, verifier: null },
    verifier: null,
    requestToken: null,
    nextAttemptAt: null,
    activatedAt: event.now,
    signingProfile: event.profile,
    profileDetectedAt: event.now,
    lastError: null,
    lastErrorAt: null,
    fix: null,
  };
}

/**
 * The same account pasted the credentials of a store it connected with credentials before, with the same consumer
 * secret and store URL (what a repeated callback must carry too) and a new access token that one signed check just
 * verified: Reauthorize in Magento minted it, and killed the old one. The binding takes the new token (its lifecycle
 * event is `store.reauthorized`). Null when the row is no such binding any more, or holds this very token.
 */
export function credentialsReconnected(
  cur: Binding,
  event: { accountId: string; consumerSecret: string; storeBaseUrl: string; pair: TokenPair; profile: SigningProfileName; now: Date },
): BindingPatch | null {
  if (!canReconnectWithCredentials(cur, event)) return null;
  if (cur.accessToken?.token === event.pair.token) return null;
  return {
    state: 'active',
    accessToken: { ...event.pair, verifier: null },
    activatedAt: event.now,
    revokedAt: null,
    signingProfile: event.profile,
    profileDetectedAt: event.now,
    lastError: null,
    lastErrorAt: null,
    fix: null,
  };
}

/** A paste for a bound consumer key is refused unless it reconnects the same account's pasted store, same values. */
export function canReconnectWithCredentials(cur: Binding, pasted: { accountId: string; consumerSecret: string; storeBaseUrl: string }): boolean {
  return cur.origin === 'credentials' && cur.accountId === pasted.accountId && cur.consumerSecret === pasted.consumerSecret && cur.storeBaseUrl === pasted.storeBaseUrl;
}

// ---- afterwards --------------------------------------------------------------------------------------------------

/**
 * Magento answered 401 for an access token that used to work: the integration was deleted or reauthorized. Only
 * revokes while the binding still holds that very token (a reauthorization may just have replaced it).
 */
export function revoked(cur: Binding, event: { accessToken: string; message: string; now: Date }): BindingPatch | null {
  if (cur.state !== 'active' || cur.accessToken?.token !== event.accessToken) return null;
  return {
    state: 'revoked',
    accessToken: null,
    revokedAt: event.now,
    lastError: `Magento refused our access token: ${event.message}`,
    lastErrorAt: event.now,
    // A store connected with pasted credentials has no callback to wait for: its new token is pasted again.
    fix: cur.origin === 'credentials' ? 'paste_new_credentials' : reauthorizedSinceActivation(cur) ? 'activate_again' : 'reauthorize',
  };
}

/**
 * A detection found the store's signing profile with the access token `accessToken`: stored only while the binding
 * is active with that very token (a Reauthorize since then is another store state to detect), and only when new.
 */
export function profileDetected(
  cur: Binding,
  event: { accessToken: string; profile: SigningProfileName; at: Date },
): BindingPatch | null {
  if (cur.state !== 'active' || cur.accessToken?.token !== event.accessToken) return null;
  if (cur.signingProfile === event.profile) return null;
  return { signingProfile: event.profile, profileDetectedAt: event.at };
}

// ---- the lifecycle event of a transition ------------------------------------------------------------------------

/**
 * The lifecycle webhook event a transition's patch emits, if any (src/webhooks/events.ts writes it in the same
 * transaction as the patch). A new access token is `store.connected` on a first activation and `store.reauthorized`
 * for a binding that was active before (Reauthorize, or Activate again after a revocation); entering `revoked` or
 * `failed` is `store.revoked` / `store.failed`; marking the store unavailable or available again (storeUnavailable,
 * storeAvailable) is `store.unavailable` / `store.available`. Everything else (claims, retries, callbacks) emits nothing.
 */
export function transitionEvent(cur: Binding, patch: BindingPatch): LifecycleEventType | null {
  if (patch.accessToken && patch.accessToken.token !== cur.accessToken?.token) {
    return cur.activatedAt === null ? 'store.connected' : 'store.reauthorized';
  }
  if (patch.state !== undefined && patch.state !== cur.state) {
    if (patch.state === 'revoked') return 'store.revoked';
    if (patch.state === 'failed') return 'store.failed';
  }
  if (patch.unavailableSince !== undefined && (patch.unavailableSince === null) !== (cur.unavailableSince === null)) {
    return patch.unavailableSince === null ? 'store.available' : 'store.unavailable';
  }
  return null;
}

// ---- revocation probes (src/probes/prober.ts) --------------------------------------------------------------------

/** The prefix a probe's warning had when it lived in lastError (before probeWarning): cleared like a warning. */
export const PROBE_WARNING = 'Revocation probe: ';

/**
 * A probe's answer did not say the token is dead (a 5xx, a timeout, a TLS error, a refused signature): the store
 * stays active, with the warning in probeWarning (lastError belongs to the activation). Only while the binding still
 * holds the token that was probed.
 */
export function probeWarned(cur: Binding, event: { accessToken: string; message: string; now: Date }): BindingPatch | null {
  if (cur.state !== 'active' || cur.accessToken?.token !== event.accessToken) return null;
  return { probeWarning: event.message, probeWarningAt: event.now };
}

/** A probe succeeded: its earlier warning, if any, is cleared (and one left in lastError by an older release). */
export function probeSucceeded(cur: Binding, event: { accessToken: string }): BindingPatch | null {
  if (cur.state !== 'active' || cur.accessToken?.token !== event.accessToken) return null;
  const patch: BindingPatch = {};
  if (cur.probeWarning !== null) Object.assign(patch, { probeWarning: null, probeWarningAt: null });
  if (cur.lastError?.startsWith(PROBE_WARNING)) Object.assign(patch, { lastError: null, lastErrorAt: null });
  return Object.keys(patch).length ? patch : null;
}

// ---- store availability (src/store-api/availability.ts, src/webhooks/availability.ts) ----------------------------

/**
 * A circuit breaker (on any instance) opened for the store: recorded once, on an active binding that is not marked
 * unavailable yet, so of several instances noticing the same outage only the first update emits store.unavailable.
 */
export function storeUnavailable(cur: Binding, event: { at: Date; reason: string | null }): BindingPatch | null {
  if (cur.state !== 'active' || cur.unavailableSince !== null) return null;
  return { unavailableSince: event.at, unavailableReason: event.reason };
}

/** A call to the store succeeded (on any instance) while it was marked unavailable: store.available, once. */
export function storeAvailable(cur: Binding): BindingPatch | null {
  if (cur.unavailableSince === null) return null;
  return { unavailableSince: null, unavailableReason: null };
}

// ---- a binding whose secrets cannot be opened (issue 13) ---------------------------------------------------------

/**
 * The binding's sealed values cannot be opened (sealed under a key id SECRETS_KEY no longer has, or altered): no
 * token call can be signed for it. Its due work is dropped, so the resumer stops picking it up, and it is failed
 * with the reason (`store.failed`). Null when it holds no work and has failed already. `cur` comes from
 * bindings.modifyUnreadable: its sealed values read "" (only whether they are there is known).
 */
export function secretsUnreadable(cur: Binding, event: { reason: string; now: Date }): BindingPatch | null {
  if (cur.state === 'failed' && cur.nextAttemptAt === null && cur.step === null) return null;
  return {
    state: 'failed',
    step: null,
    stepUntil: null,
    nextAttemptAt: null,
    lastError: `The connector cannot open this store's stored secrets (${event.reason}). Its activation cannot go on.`,
    lastErrorAt: event.now,
    fix: 'contact_support',
  };
}
