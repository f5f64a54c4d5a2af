// End to end on each emulated verifier: detect the store's profile, then sign with it what the common form refuses
// (11+ filter groups, values with a space, %, comma, @ and colon, %2F in a path). Each verifier accepts exactly what
// its profile signs; signed for another profile, the same request gets "The signature is invalid".
import test from 'ava';
import { SigningError } from '../../src/protocol/errors.js';
import { createRestClient, type RestCall } from '../../src/protocol/rest-client.js';
import { SIGNING_PROFILE_NAMES, type SigningProfileName } from '../../src/protocol/signing-profiles.js';
import { detectSigningProfile, readMagentoMessage } from '../../src/protocol/verifier-detection.js';
import { activeIntegration, startStore, transport } from '../helpers/store-doctor.js';

const retry = { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 };
const groups = (n: number) => ({
  searchCriteria: {
    filter_groups: Array.from({ length: n }, (_, i) => ({ filters: [{ field: 'entity_id', value: String(i + 1), condition_type: 'gteq' }] })),
    pageSize: 5,
  },
});
const tricky = {
  searchCriteria: {
    filter_groups: [
      { filters: [{ field: 'updated_at', value: '2000-01-01 00:00:00', condition_type: 'gteq' }] },
      { filters: [{ field: 'name', value: '%a,b@c:d% 100%', condition_type: 'nlike' }] },
    ],
  },
};
const CALLS: Record<string, RestCall> = {
  'eleven filter groups': { method: 'GET', path: 'V1/products', query: groups(11) },
  'values with space, %, comma, @, colon': { method: 'GET', path: 'V1/products', query: tricky },
};

for (const verifier of SIGNING_PROFILE_NAMES) {
  test(`${verifier}: detected, then 11+ filter groups and tricky values verify when signed for it, and only then`, async (t) => {
    const store = await startStore(t, { verifier });
    const { keys } = await activeIntegration(store);
    const tr = transport(t);
    const detected = await detectSigningProfile({ transport: tr }, keys);
    t.is(detected.profile, verifier);
    const rest = createRestClient({ transport: tr, retry });
    for (const [what, call] of Object.entries(CALLS)) {
      const ok = await rest.send({ ...keys, profile: verifier }, call);
      t.is(ok.status, 200, `${what}: ${ok.body.toString()}`);
      for (const other of SIGNING_PROFILE_NAMES.filter((p) => p !== verifier)) {
        const wrong = await rest.send({ ...keys, profile: other }, call).catch((e: unknown) => e);
        if (wrong instanceof SigningError) continue; // refused before sending: fine too
        const res = wrong as { status: number; body: Buffer; headers: Record<string, string> };
        // Where two profiles spell a request alike it verifies on both: 11 plain-valued groups on the two laminas
        // profiles (same order), values with spaces on laminas and native (same encoding, indexes below 10).
        const odd: SigningProfileName = what === 'eleven filter groups' ? 'native' : 'laminas-double-encoding';
        const agrees = verifier !== odd && other !== odd;
        if (agrees) t.is(res.status, 200, `${what} signed for ${other}`);
        else t.is(readMagentoMessage({ ...res, headers: res.headers })?.message, 'The signature is invalid. Verify and try again.', `${what} signed for ${other}`);
      }
    }
  });
}

test('%2F in a path: verifies on laminas-double-encoding and native, refused before sending on laminas naming the profile', async (t) => {
  const call: RestCall = { method: 'GET', path: 'V1/products/24-MB01%2Fblue' };
  for (const verifier of ['laminas-double-encoding', 'native'] as SigningProfileName[]) {
    const store = await startStore(t, { verifier });
    const { keys } = await activeIntegration(store);
    const rest = createRestClient({ transport: transport(t), retry });
    const res = await rest.send({ ...keys, profile: verifier }, call);
    t.is(res.status, 404, 'verified, then no such product');
    t.regex(res.body.toString(), /doesn't exist/);
  }
  const store = await startStore(t, { verifier: 'laminas' });
  const { keys } = await activeIntegration(store);
  const rest = createRestClient({ transport: transport(t), retry });
  const err = await t.throwsAsync(rest.send({ ...keys, profile: 'laminas' }, call), { instanceOf: SigningError });
  t.is(err?.code, 'ambiguous_path');
  t.regex(err!.message, /"laminas"/);
  t.is(store.knobs.requests().filter((r) => r.path.includes('24-MB01')).length, 0, 'nothing sent');
});
