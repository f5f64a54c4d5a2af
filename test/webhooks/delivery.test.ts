// Lifecycle webhook delivery, on both backends, to a real local receiver that verifies every signature: the outbox
// written in one transaction with a state change, signed deliveries, retries with the same event id, per-store
// order under failures, two workers sharing the work, claims of a dead worker taken over, the retry period, and
// the retry of a failed delivery.
import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { OffsetClock, sleep } from '../../src/clock.js';
import type { Storage } from '../../src/storage/types.js';
import { appendEvent, eventStatements } from '../../src/storage/prisma/webhooks.js';
import { backoffMs, deliveryBody } from '../../src/webhooks/worker.js';
import { lifecycleEvent } from '../../src/webhooks/events.js';
import { describeStore as storeView } from '../../src/store-api/store-view.js';
import { waitFor } from '../helpers/connector.js';
import { forEachBackend, freshStorage } from '../helpers/db.js';
import { startReceiver } from '../helpers/webhook-receiver.js';
import { deliveredByStore, FAST_WEBHOOKS, prismaClient, storeEvent, webhooks, worker } from './helpers.js';

/** A receiver subscribed to every event, checking each delivery's signature with the subscription's secret. */
async function subscribedReceiver(t: ExecutionContext, storage: Storage, clock: OffsetClock, options: Parameters<typeof startReceiver>[1] = {}) {
  const receiver = await startReceiver(t, options);
  const hooks = webhooks(storage, clock);
  const { subscription, secret } = await hooks.create({ url: receiver.url });
  receiver.secret = secret;
  return { receiver, hooks, subscription };
}

forEachBackend((backend, test) => {
  test('an event is written with its deliveries, per-store sequence and event filter; a lost race writes none', async (t) => {
    const { storage, url } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const hooks = webhooks(storage, clock);
    const all = await hooks.create({ url: 'https://crm.example.com/all' });
    const revokedOnly = await hooks.create({ url: 'https://crm.example.com/revoked', events: ['store.revoked'] });
    t.regex(all.secret, /^whsec_[A-Za-z0-9_-]{43}$/);

    const first = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.connected', clock));
    const second = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.revoked', clock));
    const other = await storage.webhooks.appendEvent(storeEvent('store-b', 'store.connected', clock));
    t.deepEqual([first.sequence, second.sequence, other.sequence], [1, 2, 1]);
    t.is((await storage.webhooks.deliveries(all.subscription.id, 10)).length, 3);
    const filtered = await storage.webhooks.deliveries(revokedOnly.subscription.id, 10);
    t.deepEqual(filtered.map((d) => [d.eventId, d.type, d.status]), [[second.id, 'store.revoked', 'pending']]);

    // The way a transition includes it: the binding's conditional update and the event in one transaction.
    const db = await prismaClient(backend, url, t);
    const binding = (await storage.bindings.create({
      id: randomUUID(),
      consumerKey: `ck-${randomUUID()}`,
      storeBaseUrl: 'https://shop.example/',
      state: 'pending',
      consumerSecret: 'cs',
      verifier: 'v',
      callbackAt: clock.now(),
    }))!;
    const failed = storeEvent(binding.id, 'store.failed', clock);
    await db.$transaction([db.binding.update({ where: { id: binding.id, version: binding.version }, data: { state: 'failed', version: { increment: 1 } } }), ...eventStatements(db, { ...failed, id: failed.id! })]);
    t.is((await storage.bindings.byId(binding.id))!.state, 'failed');
    t.is((await storage.webhooks.event(failed.id!))!.sequence, 1);

    // The same transition again, on the old version: the update matches nothing, so no event either.
    const lost = storeEvent(binding.id, 'store.failed', clock);
    await t.throwsAsync(
      db.$transaction([db.binding.update({ where: { id: binding.id, version: binding.version }, data: { state: 'revoked' } }), ...eventStatements(db, { ...lost, id: lost.id! })]),
    );
    t.is(await storage.webhooks.event(lost.id!), null);

    // Interactive form: appendEvent on the transaction client; an error after it rolls the event back too.
    const rolledBack = storeEvent(binding.id, 'store.revoked', clock);
    await t.throwsAsync(
      db.$transaction(async (tx) => {
        await appendEvent(tx, rolledBack);
        throw new Error('the state change failed after the event was written');
      }),
    );
    t.is(await storage.webhooks.event(rolledBack.id!), null);
    const kept = storeEvent(binding.id, 'store.revoked', clock);
    await db.$transaction(async (tx) => {
      await tx.binding.update({ where: { id: binding.id, version: binding.version + 1 }, data: { state: 'revoked', version: { increment: 1 } } });
      await appendEvent(tx, kept);
    });
    t.is((await storage.webhooks.event(kept.id!))!.sequence, 2);
  });

  test('deliveries arrive signed and verifiable, with the event id, JSON body and the stored data', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const { receiver, subscription } = await subscribedReceiver(t, storage, clock);
    const event = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.connected', clock));
    await worker(storage, clock, {}, t).drain();

    t.is(receiver.requests.length, 1);
    const got = receiver.requests[0]!;
    t.true(got.verified, 'the signature verifies with the secret shown at creation');
    t.is(got.eventId, event.id);
    t.is(got.contentType, 'application/json');
    t.regex(got.signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    t.is(got.raw, deliveryBody(event));
    t.deepEqual(got.body, { id: event.id, type: 'store.connected', createdAt: event.createdAt.toISOString(), data: JSON.parse(event.payload) });
    t.is(got.body.data.account.externalId, 'crm-1');
    const [delivery] = await storage.webhooks.deliveries(subscription.id, 10);
    t.like(delivery, { status: 'delivered', attempts: 1, lastStatus: 200, lastError: null, claimedBy: null });

    // With another secret the same bytes do not verify: the receiver would refuse a forgery.
    receiver.secret = 'whsec_not-the-secret';
    await storage.webhooks.appendEvent(storeEvent('store-a', 'store.revoked', clock));
    await worker(storage, clock, {}, t).poll();
    await waitFor('the forged-looking delivery', () => receiver.requests.length === 2);
    t.false(receiver.requests[1]!.verified);
  });

  test('the receiver is down for a while: afterwards every event arrives, in order per store, once, same ids', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const { receiver, subscription } = await subscribedReceiver(t, storage, clock);
    receiver.down();
    const w = worker(storage, clock, {}, t);
    w.start();
    const sent: Record<string, string[]> = { 'store-a': [], 'store-b': [] };
    for (let i = 0; i < 6; i++) {
      const store = i % 2 ? 'store-b' : 'store-a';
      sent[store]!.push((await storage.webhooks.appendEvent(storeEvent(store, 'store.reauthorized', clock))).id);
    }
    await waitFor('a few refused attempts', () => receiver.requests.length >= 6);
    receiver.up();
    await waitFor('every event delivered', () => receiver.delivered().length === 6, 60_000);
    await sleep(200); // nothing more arrives after that
    const delivered = receiver.delivered();
    t.is(new Set(delivered.map((d) => d.eventId)).size, 6, 'each event delivered once');
    t.deepEqual(Object.fromEntries(deliveredByStore(delivered)), sent, 'per store in the order written');
    const refused = receiver.requests.filter((r) => r.answered === 503);
    t.true(refused.every((r) => sent['store-a']!.includes(r.eventId) || sent['store-b']!.includes(r.eventId)), 'retries reuse the event ids');
    // While the first event of each store was failing, nothing later of that store was sent.
    const firstDelivered = new Map<string, number>();
    receiver.requests.forEach((r, i) => {
      const store = r.body.data.store.id;
      if (r.answered === 200 && !firstDelivered.has(store)) firstDelivered.set(store, i);
    });
    for (const [store, ids] of Object.entries(sent)) {
      const beforeFirst = receiver.requests.slice(0, firstDelivered.get(store)).filter((r) => r.body.data.store.id === store);
      t.true(beforeFirst.every((r) => r.eventId === ids[0]), `${store}: only its first event was tried while it failed`);
    }
    const rows = await storage.webhooks.deliveries(subscription.id, 10);
    t.true(rows.every((d) => d.status === 'delivered'));
    t.true(rows.some((d) => d.attempts > 1));
  });

  test('per-store order under failures: a store whose event keeps failing waits; other stores flow', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const { receiver } = await subscribedReceiver(t, storage, clock);
    const w = worker(storage, clock, {}, t);
    const stuck = await storage.webhooks.appendEvent(storeEvent('stuck', 'store.connected', clock));
    const behind = await storage.webhooks.appendEvent(storeEvent('stuck', 'store.revoked', clock));
    const free = [];
    for (let i = 0; i < 3; i++) free.push((await storage.webhooks.appendEvent(storeEvent('free', 'store.reauthorized', clock))).id);

    let failedOnce = false;
    receiver.failWhen((r) => r.eventId === stuck.id && !failedOnce && (failedOnce = true)); // the stuck head fails once
    await w.poll(); // both heads are due at once: stuck #1 (fails) and free #1
    await waitFor('two attempts', () => receiver.requests.filter((r) => r.answered).length === 2);
    w.start();
    await waitFor('the free store delivered', () => deliveredByStore(receiver.delivered()).get('free')?.length === 3);
    await waitFor('the stuck store delivered after its retry', () => deliveredByStore(receiver.delivered()).get('stuck')?.length === 2);
    t.deepEqual(deliveredByStore(receiver.delivered()).get('free'), free);
    t.deepEqual(deliveredByStore(receiver.delivered()).get('stuck'), [stuck.id, behind.id]);
    const stuckRequests = receiver.requests.filter((r) => r.body.data.store.id === 'stuck').map((r) => [r.eventId, r.answered]);
    t.deepEqual(stuckRequests, [[stuck.id, 500], [stuck.id, 200], [behind.id, 200]]);
  });

  test('two workers on one database never send one delivery at the same time; each is delivered once, in order', async (t) => {
    const first = await freshStorage(backend, t);
    // The second worker has its own connections, like another instance.
    const { openStorage } = await import('../../src/storage/db.js');
    const second = await openStorage({ databaseUrl: first.url, sealer: first.sealer, poolSize: 4, connectTimeoutMs: 30_000 });
    t.teardown(() => second.close());
    const clock = new OffsetClock();
    const { receiver } = await subscribedReceiver(t, first.storage, clock);
    let seed = 7;
    receiver.failRandomly(0.3, () => ((seed = (seed * 48271) % 2147483647) / 2147483647));
    const sent = new Map<string, string[]>();
    for (let i = 0; i < 40; i++) {
      const store = `store-${i % 5}`;
      const { id } = await first.storage.webhooks.appendEvent(storeEvent(store, 'store.reauthorized', clock));
      sent.set(store, [...(sent.get(store) ?? []), id]);
    }
    const a = worker(first.storage, clock, {}, t);
    const b = worker(second, clock, {}, t);
    a.start();
    b.start();
    await waitFor('every event delivered', () => receiver.delivered().length >= 40, 40_000);
    await a.stop();
    await b.stop();
    t.is(receiver.maxConcurrentPerEvent(), 1, 'never two attempts of one delivery in flight');
    t.is(receiver.delivered().length, 40);
    t.is(new Set(receiver.delivered().map((d) => d.eventId)).size, 40, 'each delivered once');
    t.deepEqual(Object.fromEntries(deliveredByStore(receiver.delivered())), Object.fromEntries(sent));
    t.true(receiver.requests.some((r) => r.answered === 500), 'some attempts failed and were retried');
  });

  test("a dead worker's claim is taken over once it runs out, and the event is delivered", async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const { receiver, subscription } = await subscribedReceiver(t, storage, clock);
    const event = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.connected', clock));
    const key = { eventId: event.id, subscriptionId: subscription.id };
    // An instance claims it and dies before answering.
    t.truthy(await storage.webhooks.claim(key, 'dead.instance', clock.now(), new Date(clock.now().getTime() + FAST_WEBHOOKS.claimMs)));
    const w = worker(storage, clock, {}, t);
    t.deepEqual(await storage.webhooks.due(clock.now(), 10), [], 'claimed: not due');
    t.is(await w.attempt(key), 'lost_claim');
    t.is(receiver.requests.length, 0);
    clock.advance(FAST_WEBHOOKS.claimMs + 1);
    await w.drain();
    t.is(receiver.delivered().length, 1);
    const row = await storage.webhooks.delivery(key);
    t.like(row, { status: 'delivered', attempts: 2, claimedBy: null });
    t.false(await storage.webhooks.finish(key, 'dead.instance', { ...row!, status: 'pending' }), 'the dead claim cannot write any more');
  });

  test('a delivery failing for the whole retry period fails its webhook; its backlog waits for retry, then flows', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const { receiver, hooks, subscription } = await subscribedReceiver(t, storage, clock, { nowSeconds: () => Math.floor(clock.now().getTime() / 1000) });
    const config = { retryPeriodMs: 24 * 3600_000 };
    const w = worker(storage, clock, config, t);
    const head = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.connected', clock));
    const next = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.revoked', clock));
    receiver.down();
    await w.drain(3); // a few attempts in the first minutes
    clock.advance(24 * 3600_000 + 1); // a day later the receiver is still down
    await w.drain();
    const key = { eventId: head.id, subscriptionId: subscription.id };
    t.like(await storage.webhooks.delivery(key), { status: 'failed', lastStatus: 503 });
    t.like(await storage.webhooks.delivery({ eventId: next.id, subscriptionId: subscription.id }), { status: 'pending', attempts: 0 });
    const failing = await hooks.get(subscription.id);
    t.truthy(failing.failingSince, 'the webhook is marked failing');
    const attempts = receiver.requests.length;
    t.true(attempts >= 2 && receiver.requests.every((r) => r.eventId === head.id), 'only the head was tried, with one id');
    clock.advance(3600_000);
    await w.drain();
    t.is(receiver.requests.length, attempts, 'a failed delivery is not retried by itself; its store waits');

    receiver.up();
    await hooks.retry(subscription.id, head.id);
    await w.drain();
    t.deepEqual(receiver.delivered().map((d) => d.eventId), [head.id, next.id]);
    t.is((await hooks.get(subscription.id)).failingSince, null, 'a delivery succeeding clears failing');
    await t.throwsAsync(hooks.retry(subscription.id, head.id), { message: /was delivered/ });
    await t.throwsAsync(hooks.retry(subscription.id, randomUUID()), { message: /has no delivery/ });
  });

  test('egress: no private addresses without ALLOW_PRIVATE_WEBHOOK_URLS, no redirects followed, URLs checked', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const { receiver, subscription } = await subscribedReceiver(t, storage, clock);
    const event = await storage.webhooks.appendEvent(storeEvent('store-a', 'store.connected', clock));
    await worker(storage, clock, { allowPrivateUrls: false }, t).drain(1);
    t.is(receiver.requests.length, 0, 'nothing reached the private address');
    const row = await storage.webhooks.delivery({ eventId: event.id, subscriptionId: subscription.id });
    t.like(row, { status: 'pending', lastStatus: null });
    t.regex(row!.lastError!, /^egress_denied/);

    receiver.failNext(1, 302);
    clock.advance(60_000);
    await worker(storage, clock, {}, t).drain(1);
    t.is(receiver.requests[0]!.answered, 302);
    t.regex((await storage.webhooks.delivery({ eventId: event.id, subscriptionId: subscription.id }))!.lastError!, /302 \(redirects are not followed\)/);

    const strict = webhooks(storage, clock, false);
    for (const [url, why] of [
      ['http://crm.example.com/hooks', /use https/],
      ['https://127.0.0.1/hooks', /non-public/],
      ['https://[::1]/hooks', /non-public/],
      ['https://10.1.2.3/hooks', /non-public/],
      ['https://localhost/hooks', /non-public/],
      ['https://user:pw@crm.example.com/hooks', /credentials/],
      ['not a url', /absolute URL/],
      ['ftp://crm.example.com/', /use https/],
    ] as const) {
      await t.throwsAsync(strict.create({ url }), { message: why }, url);
    }
    t.truthy(await strict.create({ url: 'https://crm.example.com/hooks' }));
  });
});

test('backoff doubles per attempt up to its cap, with jitter between half and all of it', (t) => {
  const c = { retryBaseDelayMs: 1_000, retryMaxDelayMs: 60_000 };
  t.is(backoffMs(c, 1, () => 0), 500);
  t.is(backoffMs(c, 1, () => 1), 1_000);
  t.is(backoffMs(c, 4, () => 1), 8_000);
  t.is(backoffMs(c, 30, () => 1), 60_000);
  t.is(backoffMs(c, 30, () => 0), 30_000);
  // The defaults retry for at least 24 hours: roughly 30 attempts, the last hours apart.
  let total = 0;
  let n = 0;
  for (; total < 24 * 3600_000; n++) total += backoffMs({ retryBaseDelayMs: 10_000, retryMaxDelayMs: 3600_000 }, n + 1, () => 1);
  t.true(n > 20 && n < 40, String(n));
});

test('lifecycleEvent carries the store as the API shows it and the account, never a secret or token', (t) => {
  const now = new Date();
  const binding = {
    id: 'b1', consumerKey: 'ck', storeBaseUrl: 'https://shop.example/', state: 'active' as const, accountId: 'a1',
    consumerSecret: 'SECRET-consumer', verifier: null, callbackAt: now,
    requestToken: null, accessToken: { token: 'TOKEN-access', secret: 'SECRET-token', verifier: 'VERIFIER' },
    activatedAt: now, revokedAt: null, step: null, stepUntil: null, stepAttempts: 0, nextAttemptAt: null,
    lastError: null, lastErrorAt: null, fix: null, accessOutcomeUnknown: false, signingProfile: null, profileDetectedAt: null, origin: 'callback' as const,
    probeWarning: null, probeWarningAt: null, unavailableSince: null, unavailableReason: null, version: 3, createdAt: now, updatedAt: now,
  };
  const view = storeView(binding);
  const event = lifecycleEvent('store.connected', view, { id: 'a1', externalId: 'tenant-1' }, now);
  t.like(event, { type: 'store.connected', storeId: 'b1', accountId: 'a1', createdAt: now });
  t.deepEqual(event.data, { store: view, account: { id: 'a1', externalId: 'tenant-1' } });
  const text = JSON.stringify(event.data);
  for (const secret of ['SECRET-consumer', 'TOKEN-access', 'SECRET-token', 'VERIFIER']) t.false(text.includes(secret), secret);
});
