// Signing profiles end to end, on each emulated verifier (src/mock-store/README.md): a store activates through the
// real flow, its profile is detected in the background and stored on the binding, and then through the PROXY what the
// common form refuses verifies where the store's verifier accepts it (11+ filter groups, values with a space, %, a
// comma, @ and a colon, %2F in a path; refused with a 400 naming the profile on laminas). An upgrade (the mock's
// verifier knob) triggers one re-detection and one re-send, and the new profile is stored and in the timeline.
import type { ExecutionContext } from 'ava';
import { SIGNING_PROFILE_NAMES, type SigningProfileName } from '../../src/protocol/signing-profiles.js';
import type { StoreDetailView } from '../../src/store-api/store-view.js';
import { activatedStore, callApi, ours, type ActivatedStore } from '../helpers/activated.js';
import { forEachBackend } from '../helpers/db.js';

/** The query string of `n` filter groups, as a CRM writes it (form encoding). */
function filterGroups(n: number): string {
  const q = new URLSearchParams();
  for (let i = 0; i < n; i++) {
    q.append(`searchCriteria[filter_groups][${i}][filters][0][field]`, 'entity_id');
    q.append(`searchCriteria[filter_groups][${i}][filters][0][value]`, String(i + 1));
    q.append(`searchCriteria[filter_groups][${i}][filters][0][condition_type]`, 'gteq');
  }
  q.append('searchCriteria[pageSize]', '5');
  return q.toString();
}

const TRICKY = new URLSearchParams([
  ['searchCriteria[filter_groups][0][filters][0][field]', 'updated_at'],
  ['searchCriteria[filter_groups][0][filters][0][value]', '2000-01-01 00:00:00'],
  ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'gteq'],
  ['searchCriteria[filter_groups][1][filters][0][field]', 'name'],
  ['searchCriteria[filter_groups][1][filters][0][value]', '%a,b@c:d% 100%'],
  ['searchCriteria[filter_groups][1][filters][0][condition_type]', 'nlike'],
]).toString();

/** A store on `verifier`, connected, with its background detection finished. */
async function connected(backend: Parameters<Parameters<typeof forEachBackend>[0]>[0], t: ExecutionContext, verifier: SigningProfileName): Promise<ActivatedStore> {
  const a = await activatedStore(backend, t, { mock: { verifier }, keepProfile: true });
  await a.connector.running.services.activation.drain();
  return a;
}

async function storeView(a: ActivatedStore): Promise<StoreDetailView> {
  const res = await callApi(`${a.connector.url}/api/stores/${a.storeId}`, 'GET', a.apiKey);
  if (res.status !== 200) throw new Error(`GET /api/stores/:id answered ${res.status}: ${res.text}`);
  return res.json as StoreDetailView;
}

forEachBackend((backend, test) => {
  for (const verifier of SIGNING_PROFILE_NAMES) {
    test(`${verifier}: the profile is detected after activation; 11+ filter groups, tricky values and %2F go through the proxy`, async (t) => {
      const a = await connected(backend, t, verifier);
      const binding = (await a.connector.binding(a.consumerKey))!;
      t.is(binding.signingProfile, verifier);
      t.true(binding.profileDetectedAt instanceof Date);

      const view = await storeView(a);
      t.is(view.signing.profile, verifier);
      t.is(view.signing.detectedAt, binding.profileDetectedAt!.toISOString());
      const kinds = view.timeline.map((e) => e.kind);
      t.deepEqual(kinds.slice(0, 2), ['detection', 'access_token'], JSON.stringify(view.timeline));
      t.true(kinds.includes('request_token') && kinds.includes('callback_received'));
      t.regex(view.timeline[0]!.detail, new RegExp(`^activation: profile ${verifier}$`));
      const secrets = [binding.consumerSecret, binding.accessToken!.token, binding.accessToken!.secret];
      t.false(view.timeline.some((e) => secrets.some((s) => e.detail.includes(s))), 'no secret in the timeline');

      for (const n of [11, 12, 25]) {
        const res = await a.api('GET', `V1/products?${filterGroups(n)}`);
        t.is(res.status, 200, `${n} filter groups: ${res.text.slice(0, 300)}`);
      }
      const tricky = await a.api('GET', `V1/products?${TRICKY}`);
      t.is(tricky.status, 200, `tricky values: ${tricky.text.slice(0, 300)}`);
      t.truthy((tricky.json as { items: unknown[] }).items);

      const slash = await a.api('GET', 'V1/products/24-MB01%2Fblue');
      if (verifier === 'laminas') {
        const message = ours(t, slash, 400, 'request_refused');
        t.regex(message, /"laminas"/);
        t.false(a.mock.knobs.requests().some((r) => r.path.includes('24-MB01%2F')), 'refused before sending');
      } else {
        t.is(slash.status, 404, slash.text);
        t.is(slash.headers.get('x-connector-error'), null, "Magento's answer: verified, then no such product");
        t.regex(slash.text, /doesn't exist/);
      }
    });
  }

  test('an upgrade (laminas -> native): the 401 triggers one re-detection and one re-send; the new profile is stored', async (t) => {
    const a = await connected(backend, t, 'laminas');
    t.is((await a.connector.binding(a.consumerKey))!.signingProfile, 'laminas');
    a.mock.knobs.setVerifier('native'); // the store "upgrades" to 2.4.8
    a.mock.knobs.clearRequests();

    // 11 filter groups: laminas's natural order ([1], [2], ..., [10]) is not native's ksort order ([1], [10], [2]...).
    const res = await a.api('GET', `V1/products?${filterGroups(11)}`);
    t.is(res.status, 200, res.text.slice(0, 300));
    const rest = a.mock.knobs.requests().filter((r) => r.kind === 'rest');
    const calls = rest.filter((r) => r.query.includes('%5B10%5D%5Bfilters') || r.query.includes('[10][filters'));
    t.true(calls.length >= 2, 'the call, the probes, the re-send');
    t.is(rest.filter((r) => r.status === 200 && r.query.includes('entity_id')).length, 1, 'one re-send verified');

    const after = (await a.connector.binding(a.consumerKey))!;
    t.is(after.signingProfile, 'native');
    const view = await storeView(a);
    t.is(view.signing.profile, 'native');
    const changed = view.timeline.find((e) => e.kind === 'profile_changed');
    t.truthy(changed, JSON.stringify(view.timeline));
    t.regex(changed!.detail, /from laminas to native \(re-detection\)/);
    t.regex(a.connector.logs(), /signing profile changed: the store was upgraded/);

    // Later calls are signed for native straight away.
    a.mock.knobs.clearRequests();
    t.is((await a.api('GET', `V1/products?${filterGroups(11)}`)).status, 200);
    t.is(a.mock.knobs.requests().filter((r) => r.kind === 'rest').length, 1, 'no probe, no re-send');
  });

  test('an upgrade to laminas (a downgrade) makes a %2F path unsignable: refused with 400 naming the profile', async (t) => {
    const a = await connected(backend, t, 'native');
    t.is((await a.api('GET', 'V1/products/24-MB01%2Fblue')).status, 404);
    a.mock.knobs.setVerifier('laminas');
    const res = await a.api('GET', `V1/products?${filterGroups(11)}`);
    t.is(res.status, 200, 'the re-send verified');
    t.is((await a.connector.binding(a.consumerKey))!.signingProfile, 'laminas');
    const slash = await a.api('GET', 'V1/products/24-MB01%2Fblue');
    t.regex(ours(t, slash, 400, 'request_refused'), /"laminas"/);
  });

  test('the TypeScript client signs for the stored profile too', async (t) => {
    const a = await connected(backend, t, 'laminas-double-encoding');
    const client = a.connector.running.services.client(a.accountId).forStore(a.storeId);
    const found = await client.get<{ items: unknown[] }>('V1/products', {
      searchCriteria: { filter_groups: [{ filters: [{ field: 'name', value: '%a,b@c:d% 100%', condition_type: 'nlike' }] }] },
    });
    t.true(Array.isArray(found.items));
  });
});
