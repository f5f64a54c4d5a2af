// Webhook retention (WEBHOOK_RETENTION_DAYS, src/webhooks/retention.ts) on both backends: deliveries delivered or
// failed longer ago than the period go, in batches, then the events none of whose deliveries is left; pending
// deliveries and their events stay however old; a failed delivery removed no longer holds back its store's queue;
// 0 keeps everything. Deliveries are made by the real worker to real receivers.
import test from 'ava';
import { OffsetClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { purgeWebhookHistory } from '../../src/webhooks/retention.js';
import { forEachBackend, freshStorage } from '../helpers/db.js';
import { startReceiver } from '../helpers/webhook-receiver.js';
import { storeEvent, webhooks, worker } from './helpers.js';

const DAY = 86_400_000;

test('WEBHOOK_RETENTION_DAYS: 30 days by default, 0 keeps forever, negative or fractional refused', (t) => {
  t.is(loadConfig({}).webhooks.retentionMs, 30 * DAY);
  t.is(loadConfig({ WEBHOOK_RETENTION_DAYS: '7' }).webhooks.retentionMs, 7 * DAY);
  t.is(loadConfig({ WEBHOOK_RETENTION_DAYS: '0' }).webhooks.retentionMs, 0);
  t.throws(() => loadConfig({ WEBHOOK_RETENTION_DAYS: '-1' }), { message: /WEBHOOK_RETENTION_DAYS/ });
  t.throws(() => loadConfig({ WEBHOOK_RETENTION_DAYS: '1.5' }), { message: /WEBHOOK_RETENTION_DAYS/ });
});

forEachBackend((backend, test) => {
  test('old delivered and failed deliveries go in batches, then their events; pending ones stay and a failed one no longer blocks its store', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const ok = await startReceiver(t);
    const bad = await startReceiver(t);
    bad.failWhen(() => true);
    const hooks = webhooks(storage, clock);
    const good = await hooks.create({ url: ok.url });
    ok.secret = good.secret;
    const failing = await hooks.create({ url: bad.url });
    bad.secret = failing.secret;

    // store-a: a1, a2; store-b: b1. The failing receiver's a1 and b1 fail at once (no retry period); its a2 stays
    // pending behind a1 (per-store order).
    const a1 = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.connected', clock));
    const a2 = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.revoked', clock));
    const b1 = await storage.webhooks.appendEvent(storeEvent('store-b', 'store.connected', clock));
    await worker(storage, clock, { retryPeriodMs: 0 }, t).drain();
    const status = async (eventId: string, subscriptionId: string) => (await storage.webhooks.delivery({ eventId, subscriptionId }))?.status ?? 'gone';
    t.deepEqual(
      await Promise.all([a1, a2, b1].map(async (e) => [await status(e.id, good.subscription.id), await status(e.id, failing.subscription.id)])),
      [['delivered', 'failed'], ['delivered', 'pending'], ['delivered', 'failed']],
    );

    // 31 days on, one new event (its deliveries pending): nothing of it may go.
    clock.advance(31 * DAY);
    const a3 = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.reauthorized', clock));

    // Nothing with retention off.
    t.deepEqual(await purgeWebhookHistory({ storage, clock, config: { retentionMs: 0 } }), { deliveries: 0, events: 0 });
    // A period longer than their age: nothing either.
    t.deepEqual(await purgeWebhookHistory({ storage, clock, config: { retentionMs: 40 * DAY } }), { deliveries: 0, events: 0 });

    // Batches of 2, one batch per run: 5 finished deliveries take three runs.
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await purgeWebhookHistory({ storage, clock, config: { retentionMs: 30 * DAY } }, { batch: 2, maxBatches: 1 }));
    t.deepEqual(runs.map((r) => r.deliveries), [2, 2, 1]);
    t.is(runs.reduce((n, r) => n + r.events, 0), 2, 'a1 and b1: every delivery of theirs went');
    t.deepEqual(await hooks.purgeHistory(), { deliveries: 0, events: 0 }, 'nothing left to remove');

    t.is(await storage.webhooks.event(a1.id), null);
    t.is(await storage.webhooks.event(b1.id), null);
    t.truthy(await storage.webhooks.event(a2.id), 'a2 keeps its event: its delivery to the failing receiver is pending');
    t.is(await status(a2.id, good.subscription.id), 'gone');
    t.is(await status(a2.id, failing.subscription.id), 'pending');
    t.truthy(await storage.webhooks.event(a3.id));
    t.is(await status(a3.id, good.subscription.id), 'pending');
    t.is(await status(a3.id, failing.subscription.id), 'pending');

    // The failed a1 no longer holds back store-a's queue to the failing receiver: a2 is its head now.
    const due = await storage.webhooks.due(clock.now(), 10);
    t.true(due.some((d) => d.eventId === a2.id && d.subscriptionId === failing.subscription.id));
    t.false(due.some((d) => d.eventId === a3.id && d.subscriptionId === failing.subscription.id), 'a3 still waits behind a2');
    // The per-store sequence goes on from what is left.
    t.is((await storage.webhooks.appendEvent(storeEvent('store-a', 'store.revoked', clock))).sequence, a3.sequence + 1);
  });
});
