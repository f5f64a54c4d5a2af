// store.unavailable / store.available through the outbox, on both backends: a store answering 503 several times in a
// row emits one store.unavailable (a failed trial call adds none), its recovery one store.available, both signed to a
// real receiver that subscribed to just these two types. The storage half: two instances' breakers noticing the same
// outage write one event, and one store.available when both see the store answer again.
import { randomUUID } from 'node:crypto';
import { OffsetClock } from '../../src/clock.js';
import type { Binding, Storage } from '../../src/storage/types.js';
import { AvailabilityRecorder } from '../../src/webhooks/availability.js';
import { bindingEvents } from '../../src/webhooks/events.js';
import { activatedStore, callApi } from '../helpers/activated.js';
import { waitFor } from '../helpers/connector.js';
import { forEachBackend, freshStorage } from '../helpers/db.js';
import { startReceiver } from '../helpers/webhook-receiver.js';
import { quietLogger } from './helpers.js';

forEachBackend((backend, test) => {
  test('availability events: 503s in a row -> one store.unavailable; a failed trial adds none; recovery -> one store.available', async (t) => {
    const a = await activatedStore(backend, t, {
      connector: { limits: { maxRetries: 0, storeFailuresBeforeUnavailable: 3 }, durations: { storeCooldownMs: 30_000 } },
    });
    const receiver = await startReceiver(t);
    const { services } = a.connector.running;
    const created = await services.operators.webhooks.create({ url: receiver.url, events: ['store.unavailable', 'store.available'] });
    receiver.secret = created.secret;

    // Three 503s from the store open the breaker; the calls after them fail fast (our 503 store_unavailable).
    a.mock.knobs.addFault({ kind: 'fail', pathPrefix: '/rest/', count: 3, status: 503 });
    for (let i = 0; i < 5; i++) t.is((await a.api('GET', 'V1/products/24-MB01')).status, 503);
    const first = await waitFor('store.unavailable delivered', () => receiver.delivered()[0]);
    t.is(first.body.type, 'store.unavailable');
    t.true(first.verified);
    t.is(first.body.data.store.id, a.storeId);
    t.like(first.body.data.store, { state: 'active', unavailable: { reason: 'HTTP 503' } });
    const shown = (await callApi(`${a.connector.url}/api/stores/${a.storeId}`, 'GET', a.apiKey)).json as { unavailable: { since: string } | null };
    t.truthy(shown.unavailable?.since, 'GET /api/stores/:id shows it');

    // The trial after the cool-down fails: another cool-down, no second event.
    a.connector.clock.advance(30_001);
    a.mock.knobs.addFault({ kind: 'fail', pathPrefix: '/rest/', count: 1, status: 503 });
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 503);
    a.connector.clock.advance(30_001);
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200);
    t.is((await a.api('GET', 'V1/products/24-MB02')).status, 200);
    const second = await waitFor('store.available delivered', () => receiver.delivered()[1]);
    t.is(second.body.type, 'store.available');
    t.is(second.body.data.store.unavailable, null);

    // Exactly these two in the outbox for this subscription (none waiting to be sent).
    const deliveries = await waitFor('both recorded as delivered', async () => {
      const list = await services.storage.webhooks.deliveries(created.subscription.id, 100);
      return list.every((d) => d.status === 'delivered') ? list : undefined;
    });
    t.deepEqual(deliveries.map((d) => d.type).sort(), ['store.available', 'store.unavailable']);
    t.is((await a.connector.binding(a.consumerKey))!.unavailableSince, null);
  });

  test('availability events: two instances noticing the same outage write one store.unavailable, then one store.available', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const subscription = await storage.webhooks.createSubscription({ id: randomUUID(), url: 'https://crm.example/hook', events: null, secret: 's' });
    const binding = await activeBinding(storage, clock);
    const events = bindingEvents(storage.accounts, clock);
    const instances = [0, 1].map(() => new AvailabilityRecorder({ bindings: storage.bindings, events, clock, logger: quietLogger() }));
    const outage = { type: 'store.unavailable' as const, consumerKey: binding.consumerKey, storeBaseUrl: binding.storeBaseUrl, at: clock.now(), reason: 'HTTP 503' };
    for (const r of instances) r.breakerChanged(outage);
    await Promise.all(instances.map((r) => r.drain()));
    const marked = (await storage.bindings.byId(binding.id))!;
    t.truthy(marked.unavailableSince);
    t.is(marked.unavailableReason, 'HTTP 503');

    // One instance's breaker closes (its trial succeeded), the other's gateway sees the marked store answer.
    instances[0]!.breakerChanged({ ...outage, type: 'store.available', reason: null });
    instances[1]!.storeAnswered(marked);
    await Promise.all(instances.map((r) => r.drain()));
    t.is((await storage.bindings.byId(binding.id))!.unavailableSince, null);

    const types = (await storage.webhooks.deliveries(subscription.id, 100)).sort((x, y) => x.sequence - y.sequence).map((d) => d.type);
    t.deepEqual(types, ['store.unavailable', 'store.available'], 'one event per change of the store, not per instance');
  });
});

async function activeBinding(storage: Storage, clock: OffsetClock): Promise<Binding> {
  const created = (await storage.bindings.create({
    id: randomUUID(),
    consumerKey: `ck-${randomUUID()}`,
    storeBaseUrl: 'https://shop.example/',
    state: 'pending',
    consumerSecret: 'cs',
    verifier: null,
    callbackAt: clock.now(),
  }))!;
  return (await storage.bindings.update(created.id, created.version, { state: 'active', accessToken: { token: 't', secret: 's', verifier: null }, activatedAt: clock.now() }))!;
}
