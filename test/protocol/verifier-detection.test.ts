// Detecting a store's verifier from its answers: the pure decision, then the probes against the mock store over HTTP
// on each verifier, an upgrade between two detections, two integrations with different verifiers in one store, and
// re-detection after "The signature is invalid".
import test from 'ava';
import type { SigningProfileName } from '../../src/protocol/signing-profiles.js';
import { createRestClient } from '../../src/protocol/rest-client.js';
import type { TransportResponse } from '../../src/protocol/transport.js';
import {
  classifyAnswer,
  decideProfile,
  detectSigningProfile,
  INVALID_SIGNATURE,
  NOT_AUTHORIZED,
  ProfileRedetector,
  redetectAfterInvalidSignature,
  sendProbe,
  type SignedAnswer,
} from '../../src/protocol/verifier-detection.js';
import { activeIntegration, startStore, transport } from '../helpers/store-doctor.js';

const PROFILES: SigningProfileName[] = ['laminas', 'laminas-double-encoding', 'native'];
const answer = (status: number, body: unknown): TransportResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});
const verified: SignedAnswer = { kind: 'verified', status: 200 };
const refused: SignedAnswer = { kind: 'signature_invalid', status: 401, message: INVALID_SIGNATURE };

test('classifyAnswer: what each Magento answer says about the signature', (t) => {
  t.is(classifyAnswer(answer(200, { items: [] })).kind, 'verified');
  t.is(classifyAnswer(answer(401, { message: NOT_AUTHORIZED, parameters: { resources: 'Magento_Catalog::products' } })).kind, 'verified');
  t.is(classifyAnswer(answer(401, { message: INVALID_SIGNATURE })).kind, 'signature_invalid');
  t.is(classifyAnswer(answer(401, { message: 'Specified token does not exist' })).kind, 'token_dead');
  t.is(classifyAnswer(answer(401, { message: 'A consumer having the specified key does not exist' })).kind, 'token_dead');
  t.is(classifyAnswer(answer(401, { message: 'An error occurred validating the nonce' })).kind, 'clock');
  t.is(classifyAnswer(answer(404, { message: "The product that was requested doesn't exist. Verify the product and try again." })).kind, 'verified');
  t.is(classifyAnswer(answer(404, { message: 'Request does not match any route.' })).kind, 'unexpected');
  t.is(classifyAnswer(answer(503, '<html>maintenance</html>')).kind, 'unexpected');
  t.is(classifyAnswer(answer(302, '')).kind, 'unexpected');
});

test('decideProfile: one exclusive probe verified decides; both refused asks for the third; all refused is undetermined', (t) => {
  t.deepEqual(decideProfile({ laminas: verified, native: refused }), { kind: 'profile', profile: 'laminas' });
  t.deepEqual(decideProfile({ laminas: refused, native: verified }), { kind: 'profile', profile: 'native' });
  t.deepEqual(decideProfile({ laminas: refused, native: refused }), { kind: 'incomplete', next: ['laminas-double-encoding'] });
  t.deepEqual(decideProfile({ laminas: refused, native: refused, 'laminas-double-encoding': verified }), {
    kind: 'profile',
    profile: 'laminas-double-encoding',
  });
  const all = decideProfile({ laminas: refused, native: refused, 'laminas-double-encoding': refused });
  t.is(all.kind === 'undetermined' && all.reason, 'every_candidate_refused');
  const both = decideProfile({ laminas: verified, native: verified });
  t.is(both.kind === 'undetermined' && both.reason, 'inconsistent', 'no real verifier accepts both spellings');
  const guest: SignedAnswer = { kind: 'verified', status: 401, message: NOT_AUTHORIZED };
  const header = decideProfile({ laminas: guest, native: guest });
  t.is(header.kind === 'undetermined' && header.reason, 'authorization_not_seen', 'answered as a guest whatever the signature');
  t.is(classifyAnswer(answer(400, { message: 'Signature method %1 is not supported', parameters: ['HMAC-SHA1'] })).kind, 'unexpected');
  // A verified probe decides even when the other one could not be sent.
  t.deepEqual(decideProfile({ laminas: { kind: 'unreachable', code: 'upstream_timeout', message: 'x' }, native: verified }), {
    kind: 'profile',
    profile: 'native',
  });
});

test('decideProfile: a dead token, a refused timestamp, an unreachable store or an odd answer is undetermined with its reason', (t) => {
  const reason = (d: ReturnType<typeof decideProfile>) => (d.kind === 'undetermined' ? d.reason : d.kind);
  t.is(reason(decideProfile({ laminas: { kind: 'token_dead', status: 401, message: 'Specified token does not exist' }, native: refused })), 'token_dead');
  t.is(reason(decideProfile({ laminas: { kind: 'clock', status: 401, message: 'An error occurred validating the nonce' }, native: refused })), 'clock');
  t.is(reason(decideProfile({ laminas: { kind: 'unreachable', code: 'upstream_unreachable', message: 'refused' }, native: refused })), 'unreachable');
  t.is(reason(decideProfile({ laminas: { kind: 'unexpected', status: 503 }, native: { kind: 'unexpected', status: 503 } })), 'unexpected_answer');
  t.is(reason(decideProfile({})), 'incomplete');
});

for (const verifier of PROFILES) {
  test(`over HTTP: each probe verifies on exactly its own verifier (${verifier})`, async (t) => {
    const store = await startStore(t, { verifier });
    const { keys } = await activeIntegration(store);
    const options = { transport: transport(t) };
    for (const profile of PROFILES) {
      const got = await sendProbe(options, keys, profile);
      t.is(got.kind, profile === verifier ? 'verified' : 'signature_invalid', `${profile} probe on ${verifier}`);
    }
    const result = await detectSigningProfile(options, keys);
    t.is(result.profile, verifier);
    t.is(result.evidence.length, verifier === 'laminas-double-encoding' ? 3 : 2);
    t.true(result.profile !== null && result.detectedAt instanceof Date);
  });
}

test('over HTTP: a refused resource still tells the verifier (the signature is checked before the ACL)', async (t) => {
  const store = await startStore(t, { verifier: 'native' });
  const { keys } = await activeIntegration(store, { resources: [] });
  const result = await detectSigningProfile({ transport: transport(t) }, keys);
  t.is(result.profile, 'native');
  t.deepEqual(result.evidence.find((e) => e.signedFor === 'native')?.answer, { kind: 'verified', status: 401, message: NOT_AUTHORIZED });
});

test('over HTTP: a store that upgraded between two detections, and two integrations with different verifiers', async (t) => {
  const store = await startStore(t, { verifier: 'laminas' });
  const a = await activeIntegration(store);
  const b = await activeIntegration(store, { verifier: 'laminas-double-encoding' });
  const options = { transport: transport(t) };
  t.is((await detectSigningProfile(options, a.keys)).profile, 'laminas');
  t.is((await detectSigningProfile(options, b.keys)).profile, 'laminas-double-encoding');
  store.knobs.setVerifier('native'); // the store upgrades; b keeps its own verifier
  t.is((await detectSigningProfile(options, a.keys)).profile, 'native');
  t.is((await detectSigningProfile(options, b.keys)).profile, 'laminas-double-encoding');
  store.knobs.setIntegrationVerifier(b.id, null);
  t.is((await detectSigningProfile(options, b.keys)).profile, 'native');
});

test('over HTTP: a deleted integration, a clock far behind ours and an unreachable store are undetermined', async (t) => {
  const store = await startStore(t);
  const gone = await activeIntegration(store);
  store.admin.delete(gone.id);
  const tr = transport(t);
  const dead = await detectSigningProfile({ transport: tr }, gone.keys);
  t.is(dead.profile, null);
  t.is(dead.profile === null && dead.reason, 'token_dead');
  t.regex(dead.profile === null ? dead.detail : '', /A consumer having the specified key does not exist/);

  const live = await activeIntegration(store);
  const ahead = { now: () => new Date(Date.now() + 700_000) };
  const clock = await detectSigningProfile({ transport: tr, clock: ahead }, live.keys);
  t.is(clock.profile === null && clock.reason, 'clock');

  const port = new URL(store.baseUrl).port;
  await store.close();
  const down = await detectSigningProfile({ transport: tr }, { ...live.keys, storeBaseUrl: `http://127.0.0.1:${port}/` });
  t.is(down.profile === null && down.reason, 'unreachable');
});

test('re-detection: after an upgrade, a call signed for the old profile is detected again and re-sent once, fresh nonce', async (t) => {
  const store = await startStore(t, { verifier: 'laminas' });
  const { keys } = await activeIntegration(store);
  const tr = transport(t);
  const rest = createRestClient({ transport: tr, retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 } });
  const known = { ...keys, profile: 'laminas' as const };
  const elevenGroups = { searchCriteria: { filter_groups: Array.from({ length: 11 }, (_, i) => ({ filters: [{ field: 'entity_id', value: String(i + 1) }] })) } };
  const call = { method: 'GET', path: 'V1/products', query: elevenGroups };
  t.is((await rest.send(known, call)).status, 200);

  store.knobs.setVerifier('native');
  const first = await rest.send(known, call);
  t.is(first.status, 401);
  store.knobs.clearRequests();
  const profilesSent: SigningProfileName[] = [];
  const outcome = await redetectAfterInvalidSignature({ transport: tr }, known, first, (profile) => {
    profilesSent.push(profile);
    return rest.send({ ...keys, profile }, call);
  });
  t.is(outcome.changedTo, 'native');
  t.true(outcome.resent);
  t.is(outcome.response.status, 200);
  t.deepEqual(profilesSent, ['native'], 'one re-send');
  // Two probes, one re-send; a repeated nonce would have been refused by the store (it burns every nonce).
  t.deepEqual(store.knobs.requests().map((r) => [r.path, r.status]).sort(), [
    ['/rest/V1/products', 401],
    ['/rest/V1/products', 200],
    ['/rest/V1/products', 200],
  ].sort());

  // Nothing to do when the answer is not an invalid signature, or when the profile did not change.
  const ok = await rest.send({ ...keys, profile: 'native' }, call);
  const none = await redetectAfterInvalidSignature({ transport: tr }, { ...keys, profile: 'native' }, ok, () => t.fail() as never);
  t.is(none.detection, null);
  const same = await redetectAfterInvalidSignature({ transport: tr }, { ...keys, profile: 'native' }, answer(401, { message: INVALID_SIGNATURE }), () => t.fail() as never);
  t.is(same.detection?.profile, 'native');
  t.false(same.resent);
  t.is(same.response.status, 401);
});

test('re-detection: a request the new profile cannot sign is refused naming it, and the change is still reported', async (t) => {
  const store = await startStore(t, { verifier: 'laminas-double-encoding' });
  const { keys } = await activeIntegration(store);
  const tr = transport(t);
  const rest = createRestClient({ transport: tr, retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 } });
  const call = { method: 'GET', path: 'V1/products/24-MB01%2Fblue' };
  const known = { ...keys, profile: 'laminas-double-encoding' as const };
  t.is((await rest.send(known, call)).status, 404, 'verified: no such product');
  store.knobs.setVerifier('laminas'); // a downgrade: %2F never verifies on laminas
  const first = await rest.send(known, call);
  t.is(first.status, 401);
  const outcome = await redetectAfterInvalidSignature({ transport: tr }, known, first, (profile) => rest.send({ ...keys, profile }, call));
  t.is(outcome.changedTo, 'laminas');
  t.false(outcome.resent);
  t.is(outcome.refusal?.code, 'ambiguous_path');
  t.regex(outcome.refusal!.message, /signing profile, "laminas"/);
});

test('ProfileRedetector: a burst of 401s after an upgrade shares one detection; a failed detection is not kept', async (t) => {
  const store = await startStore(t, { verifier: 'laminas' });
  const { keys } = await activeIntegration(store);
  const tr = transport(t);
  let detections = 0;
  const redetector = new ProfileRedetector({ transport: tr }, (o, s) => {
    detections++;
    return detectSigningProfile(o, s);
  });
  store.knobs.setVerifier('native');
  const bad = answer(401, { message: INVALID_SIGNATURE });
  const outcomes = await Promise.all(
    [1, 2, 3, 4].map(() => redetector.handle('store-1', { ...keys, profile: 'laminas' }, bad, async () => answer(200, {}))),
  );
  t.is(detections, 1);
  t.true(outcomes.every((o) => o.changedTo === 'native' && o.resent));
  await redetector.handle('store-1', { ...keys, profile: 'laminas' }, bad, async () => answer(200, {}));
  t.is(detections, 1, 'reused within reuseMs');

  store.admin.delete(store.admin.list()[0]!.id);
  const dead = await redetector.handle('store-2', { ...keys, profile: 'laminas' }, bad, async () => answer(200, {}));
  t.is(dead.detection?.profile, null);
  await redetector.handle('store-2', { ...keys, profile: 'laminas' }, bad, async () => answer(200, {}));
  t.is(detections, 3, 'an undetermined detection is tried again');
});
