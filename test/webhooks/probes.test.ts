// Revocation probes, end to end on both backends against the mock store and a real webhook receiver (interval
// shortened): a refused resource proves the token alive (no warning), a 5xx is a warning in probeWarning and the
// store stays active; a successful probe clears it;
// Reauthorize clicked in Magento kills the token, the next probe revokes the store (store.revoked), and finishing the
// Reauthorize makes it work again (store.reauthorized). Plus the scheduler's storage: due times spread over the
// interval, a claim only one instance wins, successful calls recorded and skipped.
import { randomUUID } from 'node:crypto';
import { OffsetClock } from '../../src/clock.js';
import { activateAndSignUp, Browser, finishInPopup, PASSWORD, startConnector, startMockStore, waitFor } from '../helpers/connector.js';
import { callApi } from '../helpers/activated.js';
import { forEachBackend, freshStorage } from '../helpers/db.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

const FAST_PROBES = { intervalMs: 1_500, ratePerSecond: 50, tickMs: 100, claimMs: 10_000 };
const PROBE_PATH = '/rest/V1/customerGroups/default';

forEachBackend((backend, test) => {
  test('probes: a refused resource is alive, a 5xx warns, a success clears; Reauthorize in Magento -> revoked by a probe -> reauthorized', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t, { probes: FAST_PROBES });
    const receiver = await startReceiver(t);
    const created = await connector.running.services.operators.webhooks.create({ url: receiver.url });
    receiver.secret = created.secret;
    const email = `probe-${randomUUID()}@example.com`;
    const { integrationId, consumerKey, binding } = await activateAndSignUp(mock, connector, email);
    const probes = () => mock.knobs.requests().filter((r) => r.path.endsWith(PROBE_PATH));

    // Not granted by default (Magento_Customer::group): Magento refuses the resource only after it accepted the
    // token (docs/magento-protocol.md §7b), so the store is alive and nothing is written.
    await waitFor('two probes refused', () => probes().filter((p) => p.status === 401).length >= 2);
    const alive = (await connector.binding(consumerKey))!;
    t.is(alive.state, 'active');
    t.is(alive.probeWarning, null);
    t.is(alive.lastError, null);

    // One probe's worth: the REST client retries a 503 up to maxRetries times.
    mock.knobs.addFault({ kind: 'fail', pathPrefix: PROBE_PATH, status: 503, count: 1 + connector.config.limits.maxRetries });
    const unavailable = await waitFor('a 5xx warning', async () => {
      const b = await connector.binding(consumerKey);
      return b?.probeWarning?.includes('answered 503') ? b : undefined;
    });
    t.is(unavailable.state, 'active');
    t.is(unavailable.lastError, null, 'lastError belongs to the activation');
    t.truthy(unavailable.probeWarningAt);
    t.is(unavailable.accessToken?.token, binding.accessToken!.token);
    const shown = await connector.running.services.stores.getStore(binding.accountId!, binding.id);
    t.regex(shown.probeWarning!.message, /^GET V1\/customerGroups\/default answered 503/);

    // Granted now: the next probe succeeds and clears the warning.
    mock.admin.update(integrationId, { resources: 'all' });
    await waitFor('the warning cleared by a successful probe', async () => (await connector.binding(consumerKey))?.probeWarning === null);
    t.true(probes().some((p) => p.status === 200));

    // Reauthorize clicked in Magento deletes the old token at once (§2): the next probe finds it dead.
    const reauth = await mock.admin.reauthorize(integrationId);
    t.true(reauth.callback?.ok);
    const revoked = await waitFor('revoked by a probe', async () => {
      const b = await connector.binding(consumerKey);
      return b?.state === 'revoked' ? b : undefined;
    });
    t.regex(revoked.lastError!, /^Magento refused our access token/);
    const done = await finishInPopup(new Browser(), connector, reauth.popupUrl!, 'login', email, PASSWORD);
    t.is(done.status, 302, done.text.slice(0, 300));
    await waitFor('active again', async () => (await connector.binding(consumerKey))?.state === 'active');

    await waitFor('three events', () => receiver.delivered().length >= 3);
    t.deepEqual(receiver.delivered().map((d) => d.body.type), ['store.connected', 'store.revoked', 'store.reauthorized']);
    t.true(receiver.delivered().every((d) => d.verified));
    t.is((await connector.binding(consumerKey))!.state, 'active');
  });

  test('probes: a store with a successful call in the interval is not probed; the call is recorded', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t, { probes: { ...FAST_PROBES, intervalMs: 60_000 } });
    const { binding } = await activateAndSignUp(mock, connector, `busy-${randomUUID()}@example.com`);
    const { key } = await connector.running.services.accounts.createApiKey(binding.accountId!, 'k');
    t.is((await callApi(`${connector.url}/api/stores/${binding.id}/rest/V1/products/24-MB01`, 'GET', key)).status, 200);
    const { storage } = connector.running.services;
    const recorded = await waitFor('the call recorded', async () => (await storage.probes.state(binding.id))?.lastCallOkAt ?? undefined);
    t.true(recorded.getTime() <= connector.clock.now().getTime());
    // Make it due now: the scheduler skips it (a call succeeded within the interval) and moves it on. (Its first due
    // time, at random within the interval, may have come before the call: only probes from now on count.)
    const probesBefore = mock.knobs.requests().filter((r) => r.path.endsWith(PROBE_PATH)).length;
    const due = await waitFor('a due time', async () => (await storage.probes.state(binding.id))?.nextProbeAt ?? undefined);
    t.true(await storage.probes.reschedule(binding.id, due, connector.clock.now()));
    const next = await waitFor('rescheduled', async () => {
      const s = await storage.probes.state(binding.id);
      return s?.nextProbeAt && s.nextProbeAt > connector.clock.now() ? s.nextProbeAt : undefined;
    });
    t.true(next.getTime() <= recorded.getTime() + 60_000, 'within the interval after the call');
    t.is(mock.knobs.requests().filter((r) => r.path.endsWith(PROBE_PATH)).length, probesBefore, 'no probe sent');
  });

  test('probe scheduling: new active stores spread over the interval; one claim wins; only active stores are due', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const now = clock.now();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const b = (await storage.bindings.create({ id: randomUUID(), consumerKey: `ck-${randomUUID()}`, storeBaseUrl: 'https://shop.example/', state: 'pending', consumerSecret: 'cs', verifier: null, callbackAt: now }))!;
      if (i < 30) await storage.bindings.update(b.id, b.version, { state: 'active' });
      ids.push(b.id);
    }
    const interval = 3600_000;
    t.is(await storage.probes.scheduleNew(now, interval, 1000, Math.random), 30, 'only the active ones');
    t.is(await storage.probes.scheduleNew(now, interval, 1000, Math.random), 0, 'once');
    const times = await Promise.all(ids.slice(0, 30).map(async (id) => (await storage.probes.state(id))!.nextProbeAt!.getTime() - now.getTime()));
    t.true(times.every((ms) => ms >= 0 && ms < interval));
    const quarters = [0, 1, 2, 3].map((q) => times.filter((ms) => Math.floor((ms / interval) * 4) === q).length);
    t.true(quarters.filter((n) => n > 0).length >= 3, `spread over the interval: ${quarters.join(',')}`);

    const later = new Date(now.getTime() + interval);
    const due = await storage.probes.due(later, 100);
    t.is(due.length, 30);
    const first = due[0]!;
    const until = new Date(later.getTime() + 60_000);
    const claims = await Promise.all([storage.probes.claim(first.id, first.nextProbeAt, until), storage.probes.claim(first.id, first.nextProbeAt, until)]);
    t.deepEqual(claims.sort(), [false, true], 'exactly one instance claims it');
    t.false((await storage.probes.due(later, 100)).some((d) => d.id === first.id), 'claimed: not due until the claim ends');
    t.true((await storage.probes.due(new Date(until.getTime() + 1), 100)).some((d) => d.id === first.id), 'a dead claimer\'s probe comes due again');
  });
});
