// Revocation probes across two connector processes on one database (interval shortened to a few seconds): each store
// is probed once per interval, not once per instance (consecutive probes of a store are never closer than the
// shortest next due time, 90% of the interval: a second instance probing the same store in the same interval would
// be), and a store whose integration is deleted in Magento is revoked with exactly one store.revoked delivered to the
// receiver, although both instances keep probing.
import { systemClock } from '../../src/clock.js';
import type { MockStore } from '../../src/mock-store/app.js';
import { Webhooks } from '../../src/webhooks/webhooks.js';
import { Browser, hiddenFields, startMockStore, testSecretsKey, waitFor } from '../helpers/connector.js';
import { forEachBackend, freshDatabase } from '../helpers/db.js';
import { sharedStorage, spawnInstance } from '../helpers/instances.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

const INTERVAL_MS = 3_000;
const PROBES = { intervalMs: INTERVAL_MS, ratePerSecond: 50, tickMs: 100, claimMs: 10_000 };
const PROBE_PATH = '/rest/V1/customerGroups/default';

/** When this store's probes reached it (its own clock), in order. */
const probeTimes = (mock: MockStore): number[] =>
  mock.knobs
    .requests()
    .filter((r) => r.path.endsWith(PROBE_PATH))
    .map((r) => Date.parse(r.at));

forEachBackend((backend, test) => {
  test.serial('two instances: each store probed once per interval, not twice; a deleted integration -> exactly one store.revoked', async (t) => {
    const { url: databaseUrl } = await freshDatabase(backend);
    // The shared URLs (open sign-up): this test is about probes, not about which account a callback lands in.
    const options = { databaseUrl, secretsKey: testSecretsKey(), probes: PROBES, openSignup: true };
    const [a, b] = await Promise.all([spawnInstance(t, options), spawnInstance(t, options)]);
    const { storage } = await sharedStorage(t, options);
    const receiver = await startReceiver(t);
    const { secret } = await new Webhooks({ storage, clock: systemClock, config: { allowPrivateUrls: true } }).create({ url: receiver.url });
    receiver.secret = secret;

    // One mock store per integration, so each store's probes are told apart. Callback on A, popup on B.
    const stores: { mock: MockStore; integrationId: number; consumerKey: string }[] = [];
    for (const name of ['kept', 'deleted']) {
      const mock = await startMockStore(t);
      const integration = mock.admin.create({ name, callbackUrl: `${a.url}/magento/callback`, identityLinkUrl: `${b.url}/magento/identity` });
      const { popupUrl } = await mock.admin.activate(integration.id);
      const browser = new Browser();
      const page = await browser.get(popupUrl!);
      const done = await browser.post(`${b.url}/magento/identity/signup`, { ...hiddenFields(page.text), confirm_store: 'yes', email: `${name}-${backend}@example.com`, password: 'long enough password' });
      t.is(done.status, 302, done.text.slice(0, 300));
      stores.push({ mock, integrationId: integration.id, consumerKey: integration.consumerKey });
    }
    const [kept, deleted] = stores as [(typeof stores)[0], (typeof stores)[0]];

    // Several intervals of probing by both instances.
    await waitFor('three probes of each store', () => stores.every((s) => probeTimes(s.mock).length >= 3), 60_000);
    for (const s of stores) {
      const times = probeTimes(s.mock);
      const gaps = times.slice(1).map((at, i) => at - times[i]!);
      t.true(
        gaps.every((gap) => gap >= INTERVAL_MS * 0.9 - 50),
        `consecutive probes at least 90% of the interval apart (a double probe would not be): ${gaps.join(', ')} ms`,
      );
      // Default grants: Magento_Customer::group refused, which proves the token alive.
      t.true(s.mock.knobs.requests().filter((r) => r.path.endsWith(PROBE_PATH)).every((r) => r.status === 401));
    }
    for (const s of stores) t.is((await storage.bindings.byConsumerKey(s.consumerKey))!.probeWarning, null);

    // Delete in the Magento admin: the next probe (whichever instance sends it) revokes the store.
    deleted.mock.admin.delete(deleted.integrationId);
    const revoked = await waitFor('revoked by a probe', async () => {
      const binding = await storage.bindings.byConsumerKey(deleted.consumerKey);
      return binding?.state === 'revoked' ? binding : undefined;
    }, 60_000);
    t.regex(revoked.lastError!, /^Magento refused our access token/);
    // Both instances go on probing the store that is left for a few more intervals; the revoked one is not due.
    const probesOfDeleted = probeTimes(deleted.mock).length;
    const keptSoFar = probeTimes(kept.mock).length;
    await waitFor('two more probes of the kept store', () => probeTimes(kept.mock).length >= keptSoFar + 2, 60_000);
    t.is(probeTimes(deleted.mock).length, probesOfDeleted, 'a revoked store is not probed');
    await waitFor('the events delivered', () => receiver.delivered().filter((d) => d.body.type === 'store.revoked').length >= 1, 30_000);
    const revokedEvents = receiver.delivered().filter((d) => d.body.type === 'store.revoked');
    t.is(revokedEvents.length, 1, 'exactly one store.revoked');
    t.is(revokedEvents[0]!.body.data.store.id, revoked.id);
    t.true(revokedEvents[0]!.verified);
    t.is(receiver.delivered().filter((d) => d.body.type === 'store.connected').length, 2);
    t.is((await storage.bindings.byConsumerKey(kept.consumerKey))!.state, 'active');
  });
});
