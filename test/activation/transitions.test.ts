// The activation state machine without a database: each transition's patch for the states that matter, applied to a
// plain record the way bindings.modify applies it.
import test from 'ava';
import {
  accessTokenFailed,
  accessTokenIssued,
  callbackReceived,
  cannotBeCompleted,
  fallbackFix,
  isReauthorizing,
  requestTokenClaimed,
  requestTokenFailed,
  requestTokenIssued,
  probeSucceeded,
  probeWarned,
  revoked,
  storeAvailable,
  storeUnavailable,
  transitionEvent,
  windowClosed,
} from '../../src/activation/transitions.js';
import type { Binding, BindingPatch } from '../../src/storage/types.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

function binding(overrides: Partial<Binding> = {}): Binding {
  return {
    id: 'b1',
    consumerKey: 'ck'.repeat(16),
    storeBaseUrl: 'https://shop.example.com/',
    state: 'pending',
    accountId: null,
    consumerSecret: 'cs'.repeat(16),
    verifier: 'v1',
    callbackAt: T0,
    requestToken: null,
    accessToken: null,
    activatedAt: null,
    revokedAt: null,
    step: null,
    stepUntil: null,
    stepAttempts: 0,
    nextAttemptAt: T0,
    lastError: null,
    lastErrorAt: null,
    fix: null,
    accessOutcomeUnknown: false,
    signingProfile: null,
    profileDetectedAt: null,
    origin: 'callback',
    probeWarning: null,
    probeWarningAt: null,
    unavailableSince: null,
    unavailableReason: null,
    version: 0,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** What bindings.modify stores: undefined fields stay as they are. */
function apply(b: Binding, patch: BindingPatch | null): Binding {
  if (!patch) return b;
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  return { ...b, ...defined, version: b.version + 1 };
}

const pair = { token: 'rt', secret: 'rts' };
const active = (overrides: Partial<Binding> = {}) =>
  binding({
    state: 'active',
    accountId: 'acc',
    verifier: null,
    nextAttemptAt: null,
    accessToken: { token: 'at', secret: 'ats', verifier: 'v0' },
    activatedAt: at(-60_000),
    callbackAt: at(-120_000),
    ...overrides,
  });

test('the happy path: pending -> (claim) -> request_token -> active, each step clearing what it finished', (t) => {
  let b = binding();
  b = apply(b, requestTokenClaimed(b, { now: at(1), leaseMs: 30_000 }));
  t.like(b, { step: 'request_token', stepUntil: at(30_001), nextAttemptAt: at(30_001), stepAttempts: 1 });
  b = apply(b, requestTokenIssued(b, { pair, verifier: 'v1', at: at(2) }));
  t.like(b, { state: 'request_token', verifier: null, nextAttemptAt: null, step: null, stepUntil: null });
  t.deepEqual(b.requestToken, { ...pair, verifier: 'v1', at: at(2) });
  b = apply(b, accessTokenIssued(b, { accountId: 'acc', pair: { token: 'at', secret: 'ats' }, requestToken: 'rt', verifier: 'v1', now: at(3) }));
  t.like(b, { state: 'active', accountId: 'acc', requestToken: null, activatedAt: at(3), lastError: null, fix: null, accessOutcomeUnknown: false });
  t.deepEqual(b.accessToken, { token: 'at', secret: 'ats', verifier: 'v1' });
});

test('callbackReceived: a replay of a handled verifier changes nothing; the same verifier restarts the window', (t) => {
  const held = binding({ state: 'request_token', verifier: null, requestToken: { ...pair, verifier: 'v1', at: T0 } });
  t.is(callbackReceived(held, { verifier: 'v1', now: at(5) }), null);
  const waiting = binding({ nextAttemptAt: at(9_000), stepAttempts: 3 });
  t.deepEqual(callbackReceived(waiting, { verifier: 'v1', now: at(5) }), { callbackAt: at(5), nextAttemptAt: at(5), stepAttempts: 0 });
  const claimed = binding({ step: 'request_token', stepUntil: at(10_000) });
  t.deepEqual(callbackReceived(claimed, { verifier: 'v1', now: at(5) }), { callbackAt: at(5) }, 'a claim in progress is left alone');
  t.is(callbackReceived(binding({ callbackAt: at(10) }), { verifier: 'v1', now: at(5) }), null, 'an older repeat');
});

test('callbackReceived: failed bindings start over, active ones keep their token and error', (t) => {
  const failed = binding({ state: 'failed', verifier: null, lastError: 'x', fix: 'check_store', accessOutcomeUnknown: true });
  t.like(apply(failed, callbackReceived(failed, { verifier: 'v2', now: at(5) })), {
    state: 'pending',
    verifier: 'v2',
    lastError: null,
    fix: null,
    accessOutcomeUnknown: false,
  });
  const connected = active({ lastError: 'old', fix: 'reauthorize' });
  const after = apply(connected, callbackReceived(connected, { verifier: 'v2', now: at(5) }));
  t.like(after, { state: 'active', verifier: 'v2', lastError: 'old', fix: 'reauthorize' });
  t.true(isReauthorizing(after));
});

test('requestTokenFailed: a retry keeps the verifier; "not a verifier" fails only a binding with nothing to finish', (t) => {
  const claimed = binding({ step: 'request_token', stepUntil: at(30_000), stepAttempts: 1 });
  const retry = apply(claimed, requestTokenFailed(claimed, { verifier: 'v1', failure: { kind: 'retry', retryAt: at(500), message: 'down' }, now: at(1) }));
  t.like(retry, { state: 'pending', verifier: 'v1', nextAttemptAt: at(500), step: null, lastError: 'down' });

  const lost = apply(claimed, requestTokenFailed(claimed, { verifier: 'v1', failure: { kind: 'not_a_verifier', message: 'm' }, now: at(1) }));
  t.like(lost, { state: 'failed', fix: 'recreate_integration', verifier: null, nextAttemptAt: null, step: null });
  t.true(cannotBeCompleted(lost));

  const kept = binding({ ...claimed, state: 'request_token', requestToken: { ...pair, verifier: 'v0', at: T0 } });
  const still = apply(kept, requestTokenFailed(kept, { verifier: 'v1', failure: { kind: 'not_a_verifier', message: 'm' }, now: at(1) }));
  t.like(still, { state: 'request_token', verifier: null, nextAttemptAt: null, lastError: null });
  t.false(cannotBeCompleted(still), 'the kept request token can still be exchanged (§4a)');
});

test('a failure for an older verifier leaves a newer callback alone', (t) => {
  const newer = binding({ verifier: 'v2', nextAttemptAt: at(7), step: 'request_token', stepUntil: at(30_000) });
  const after = apply(newer, requestTokenFailed(newer, { verifier: 'v1', failure: { kind: 'final', message: 'm', fix: 'activate_again' }, now: at(1) }));
  t.like(after, { state: 'pending', verifier: 'v2', nextAttemptAt: at(7), step: null, lastError: null });
});

test('windowClosed: the last transport error explains it and asks to check the store; else Activate again', (t) => {
  const quiet = binding();
  t.like(apply(quiet, windowClosed(quiet, { verifier: 'v1', now: at(300_000) })), { state: 'failed', fix: 'activate_again', verifier: null });
  const troubled = binding({ lastError: 'Could not get a request token from the store: timeout' });
  t.like(apply(troubled, windowClosed(troubled, { verifier: 'v1', now: at(300_000) })), {
    state: 'failed',
    fix: 'check_store',
    lastError: 'Could not get a request token from the store: timeout',
  });
});

test('a Reauthorize that cannot finish: the binding stays active, but carries the fix (Magento killed the old token)', (t) => {
  const reauth = active({ verifier: 'v2', callbackAt: at(0), step: 'request_token', stepUntil: at(30_000) });
  const after = apply(reauth, requestTokenFailed(reauth, { verifier: 'v2', failure: { kind: 'final', message: 'expired', fix: 'activate_again' }, now: at(1) }));
  t.like(after, { state: 'active', verifier: null, fix: 'activate_again', lastError: 'expired' });
});

test('accessTokenFailed: the outcome-unknown flag is a field, set by a lost answer and cleared by a definite one', (t) => {
  const held = binding({ state: 'request_token', verifier: null, requestToken: { ...pair, verifier: 'v1', at: T0 }, step: 'access_token', stepUntil: at(30_000) });
  const lost = apply(held, accessTokenFailed(held, {
    requestToken: 'rt',
    failure: { message: 'no answer', fix: null, keepRequestToken: true, outcomeUnknown: true },
    now: at(1),
  }));
  t.like(lost, { state: 'request_token', accessOutcomeUnknown: true, step: null, lastError: 'no answer' });
  t.truthy(lost.requestToken, 'kept to try again');
  const refused = apply(lost, accessTokenFailed(lost, {
    requestToken: 'rt',
    failure: { message: 'refused', fix: 'reauthorize', keepRequestToken: false, outcomeUnknown: false },
    now: at(2),
  }));
  t.like(refused, { state: 'failed', requestToken: null, accessOutcomeUnknown: false, fix: 'reauthorize' });
});

test('revoked: only for the token that died; the fix names the button Magento shows', (t) => {
  const connected = active();
  t.is(revoked(connected, { accessToken: 'other', message: 'm', now: at(1) }), null, 'a newer token is not revoked');
  t.is(revoked(binding(), { accessToken: 'at', message: 'm', now: at(1) }), null, 'not active');
  const dead = apply(connected, revoked(connected, { accessToken: 'at', message: 'Specified token does not exist', now: at(1) }));
  t.like(dead, { state: 'revoked', accessToken: null, revokedAt: at(1), fix: 'reauthorize', lastError: 'Magento refused our access token: Specified token does not exist' });

  // Reauthorize clicked (its callback reached us, the request token was fetched), then abandoned: Magento now shows
  // the integration inactive and offers Activate.
  const abandoned = active({ callbackAt: at(-1_000), requestToken: { ...pair, verifier: 'v2', at: at(-900) } });
  t.like(apply(abandoned, revoked(abandoned, { accessToken: 'at', message: 'm', now: at(1) })), { state: 'revoked', fix: 'activate_again' });
  // Reauthorize whose request token failed (verifier dropped): still a callback after activation, still Activate.
  const failedReauth = active({ callbackAt: at(-1_000), fix: 'check_store', lastError: 'down' });
  t.like(apply(failedReauth, revoked(failedReauth, { accessToken: 'at', message: 'm', now: at(1) })), { fix: 'activate_again' });
});

test('fallbackFix: Reauthorize only for an active binding', (t) => {
  t.is(fallbackFix(active()), 'reauthorize');
  t.is(fallbackFix(binding({ state: 'revoked' })), 'activate_again');
  t.is(fallbackFix(binding({ state: 'failed' })), 'activate_again');
});

test('probe warnings: their own field, only for the probed token; a success clears it (and an old one in lastError)', (t) => {
  const active = binding({ state: 'active', accessToken: { token: 'at', secret: 's', verifier: null }, lastError: 'activation trouble' });
  t.is(probeWarned(active, { accessToken: 'older', message: 'm', now: T0 }), null, 'another token');
  const warned = apply(active, probeWarned(active, { accessToken: 'at', message: 'GET x answered 503', now: at(1) }));
  t.like(warned, { probeWarning: 'GET x answered 503', probeWarningAt: at(1), lastError: 'activation trouble' });
  t.like(apply(warned, probeSucceeded(warned, { accessToken: 'at' })), { probeWarning: null, probeWarningAt: null, lastError: 'activation trouble' });
  t.is(probeSucceeded(active, { accessToken: 'at' }), null, 'nothing to clear');
  const legacy = binding({ state: 'active', accessToken: { token: 'at', secret: 's', verifier: null }, lastError: 'Revocation probe: GET x answered 503' });
  t.like(apply(legacy, probeSucceeded(legacy, { accessToken: 'at' })), { lastError: null });
});

test('availability: unavailable once, only while active; available once; each change is its lifecycle event', (t) => {
  const active = binding({ state: 'active', accessToken: { token: 'at', secret: 's', verifier: null }, activatedAt: T0 });
  const patch = storeUnavailable(active, { at: at(5), reason: 'HTTP 503' });
  t.deepEqual(patch, { unavailableSince: at(5), unavailableReason: 'HTTP 503' });
  t.is(transitionEvent(active, patch!), 'store.unavailable');
  const down = apply(active, patch);
  t.is(storeUnavailable(down, { at: at(6), reason: 'HTTP 502' }), null, 'a second instance noticing it changes nothing');
  t.is(storeUnavailable(binding({ state: 'revoked' }), { at: at(6), reason: null }), null);
  const up = storeAvailable(down);
  t.is(transitionEvent(down, up!), 'store.available');
  t.is(storeAvailable(apply(down, up)), null, 'once');
});
