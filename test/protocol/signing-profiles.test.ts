// Signing profiles against vectors computed from docs/magento-protocol.md §7a by test/helpers/profile-rules.ts,
// a small reading of the rules that shares no code with src/protocol.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { SigningError } from '../../src/protocol/errors.js';
import { createSigner, type SignedRequest } from '../../src/protocol/signer.js';
import { SIGNING_PROFILE_NAMES, signingProfile, type SigningProfileName } from '../../src/protocol/signing-profiles.js';
import { normaliseUrl } from '../../src/protocol/url.js';
import { outcome, type Outcome, type Profile, type VectorInput } from '../helpers/profile-rules.js';

interface ProfileVector extends VectorInput {
  id: string;
  expect: Record<Profile, Outcome>;
}
const { vectors } = JSON.parse(
  readFileSync(new URL('../fixtures/profile-vectors.json', import.meta.url), 'utf8'),
) as { vectors: ProfileVector[] };

const PROFILES: Profile[] = ['laminas', 'laminas-double-encoding', 'native', 'common'];
const asName = (p: Profile): SigningProfileName | null => (p === 'common' ? null : p);
const signatureIn = (signed: SignedRequest) => decodeURIComponent(/oauth_signature="([^"]+)"/.exec(signed.authorization)![1]!);

function sign(v: VectorInput, profile: Profile): SignedRequest {
  return createSigner(v.consumer).sign(
    { method: v.method, url: v.url, query: v.query, nonce: v.nonce, timestamp: v.timestamp, profile: asName(profile) },
    v.token,
  );
}

test('the profile names are exported as a list', (t) => {
  t.deepEqual([...SIGNING_PROFILE_NAMES], ['laminas', 'laminas-double-encoding', 'native']);
  t.is(signingProfile(null).name, 'common');
  t.is(signingProfile('native').name, 'native');
  const err = t.throws(() => signingProfile('laminas2' as SigningProfileName), { instanceOf: SigningError });
  t.is(err?.code, 'invalid_profile');
});

test('the vectors file holds what the §7a rules give (it is not stale)', (t) => {
  t.is(vectors.length, 3);
  for (const v of vectors) {
    for (const profile of PROFILES) t.deepEqual(v.expect[profile], outcome(profile, v), `${v.id} / ${profile}`);
  }
});

for (const v of [0, 1, 2]) {
  for (const profile of PROFILES) {
    test(`vector P${v + 1} on ${profile}: base string, signature and URL exactly, or the same refusal`, (t) => {
      const vector = vectors[v]!;
      const expected = vector.expect[profile];
      if ('refused' in expected) {
        const err = t.throws(() => sign(vector, profile), { instanceOf: SigningError });
        t.is(err?.code, expected.refused);
        // A store whose profile is known is told which verifier refuses; the common form keeps its wording.
        if (profile === 'common') t.regex(err!.message, /2\.4\.4–2\.4\.7/);
        else t.true(err!.message.includes(`signing profile, "${profile}"`), err!.message);
        return;
      }
      const signed = sign(vector, profile);
      t.is(signed.baseString, expected.base);
      t.is(signatureIn(signed), expected.signature);
      t.is(signed.url, expected.url);
    });
  }
}

test('the common form refuses what it refused before, with the same messages', (t) => {
  const p1 = t.throws(() => sign(vectors[0]!, 'common'), { instanceOf: SigningError });
  t.is(
    p1?.message,
    'cannot sign this request: Magento versions order the parameters "searchCriteria[filter_groups][10][filters][0][value]" ' +
      'and "searchCriteria[filter_groups][1][filters][0][condition_type]" differently, so no signature is valid on every ' +
      'Magento version and the store would answer 401 "The signature is invalid". Their digit runs 10 and 1 have ' +
      'different lengths: 2.4.4–2.4.7 compare them as numbers (1 before 10), the current code character by character ' +
      '(10 before 1). Split the request so that every index stays below 10 (e.g. at most 10 filter groups or filters ' +
      'per request), or keep the numbers in these names the same length',
  );
  const p3 = t.throws(() => sign(vectors[2]!, 'common'), { instanceOf: SigningError });
  t.is(
    p3?.message,
    'the URL path contains an encoded "/" (%2F): Magento 2.4.4–2.4.7 decode it before checking the signature and ' +
      'later releases do not, so no signature satisfies both. Look the item up another way (for a product, GET ' +
      'V1/products with a searchCriteria filter on sku) instead of putting it in the path',
  );
});

const filterGroups = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ filters: [{ field: 'entity_id', value: String(i), condition_type: 'eq' }] }));
const signedFieldNames = (signed: SignedRequest): string[] =>
  decodeURIComponent(decodeURIComponent(signed.baseString.split('&')[2]!))
    .split('&')
    .map((p) => p.slice(0, p.indexOf('=')))
    .filter((n) => n.endsWith('[field]'))
    .map((n) => /\[filter_groups\]\[(\d+)\]/.exec(n)![1]!);

test('12 filter groups sign on every known profile: natural order on laminas, raw-name byte order on native', (t) => {
  const v = vectors[0]!;
  const request = { method: 'GET', url: v.url, query: { searchCriteria: { filter_groups: filterGroups(12) } }, nonce: v.nonce, timestamp: v.timestamp };
  const signer = createSigner(v.consumer);
  const natural = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'];
  t.deepEqual(signedFieldNames(signer.sign({ ...request, profile: 'laminas' }, v.token)), natural);
  t.deepEqual(signedFieldNames(signer.sign({ ...request, profile: 'laminas-double-encoding' }, v.token)), natural);
  t.deepEqual(signedFieldNames(signer.sign({ ...request, profile: 'native' }, v.token)), ['0', '10', '11', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  const err = t.throws(() => signer.sign(request, v.token), { instanceOf: SigningError });
  t.is(err?.code, 'ambiguous_parameter_order');
});

test('path escapes per profile: %2F kept on laminas-double-encoding and native; %2B and %25XX kept on native only', (t) => {
  const base = 'https://s.example/rest/V1/products/';
  t.is(normaliseUrl(`${base}24-MB01%2fblue`, signingProfile('native')), `${base}24-MB01%2Fblue`);
  t.is(normaliseUrl(`${base}24-MB01%2Fblue`, signingProfile('laminas-double-encoding')), `${base}24-MB01%2Fblue`);
  t.is(normaliseUrl(`${base}a%2Bb%252F`, signingProfile('native')), `${base}a%2Bb%252F`);
  for (const profile of ['laminas', 'laminas-double-encoding'] as const) {
    const err = t.throws(() => normaliseUrl(`${base}a%2Bb`, signingProfile(profile)), { instanceOf: SigningError });
    t.is(err?.code, 'ambiguous_path');
    t.true(err!.message.includes(`"${profile}"`));
  }
  const laminas = t.throws(() => normaliseUrl(`${base}24-MB01%2Fblue`, signingProfile('laminas')), { instanceOf: SigningError });
  t.is(
    laminas?.message,
    'the URL path contains an encoded "/" (%2F): Magento 2.4.4–2.4.7 (this store\'s signing profile, "laminas") decode ' +
      'it before checking the signature, so no signature over the path as sent verifies. Look the item up another way ' +
      '(for a product, GET V1/products with a searchCriteria filter on sku) instead of putting it in the path',
  );
});

test('on every profile the sent URL is the same: only the signature differs', (t) => {
  const v = vectors[1]!;
  const urls = new Set(PROFILES.map((p) => sign(v, p).url));
  t.is(urls.size, 1);
  t.is([...urls][0], 'https://shop.example.com/rest/default/V1/orders?searchCriteria[filter_groups][0][filters][0][field]=created_at' +
    '&searchCriteria[filter_groups][0][filters][0][value]=2024-10-25%2000%3A00%3A00' +
    '&searchCriteria[filter_groups][0][filters][0][condition_type]=gt&q=a%2Cb%40c%3Ad%2050%25');
});

test('names a verifier cannot order are refused, naming the profile', (t) => {
  const v = vectors[0]!;
  // strnatcmp skips leading zeros ("07" equals "007"); ksort reads both as the number 7: a tie on every profile.
  for (const profile of SIGNING_PROFILE_NAMES) {
    const err = t.throws(
      () => createSigner(v.consumer).sign({ method: 'GET', url: v.url, query: [['07', 'x'], ['007', 'y']], profile }, v.token),
      { instanceOf: SigningError },
    );
    t.is(err?.code, 'ambiguous_parameter_order');
    t.true(err!.message.includes(`"${profile}"`), err!.message);
  }
});
