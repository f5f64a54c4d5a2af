// Webhook delivery across real connector processes on one database: an instance killed in the middle of a delivery
// loses nothing (another instance takes its claim over once it runs out), and two running instances share the
// backlog without sending one delivery twice at the same time.
import { randomUUID } from 'node:crypto';
import { Webhooks } from '../../src/webhooks/webhooks.js';
import { systemClock } from '../../src/clock.js';
import { testSecretsKey, waitFor } from '../helpers/connector.js';
import { forEachBackend, freshDatabase } from '../helpers/db.js';
import { sharedStorage, spawnInstance } from '../helpers/instances.js';
import { startReceiver } from '../helpers/webhook-receiver.js';
import { deliveredByStore } from './helpers.js';

const event = (storeId: string) => ({
  id: randomUUID(),
  type: 'store.reauthorized' as const,
  storeId,
  accountId: 'acct',
  data: { store: { id: storeId, state: 'active' }, account: { id: 'acct', externalId: null } },
  createdAt: new Date(),
});

forEachBackend((backend, test) => {
  test.serial('an instance killed mid-delivery loses nothing: another takes the claim over and everything arrives in order', async (t) => {
    const { url: databaseUrl } = await freshDatabase(backend);
    const options = { databaseUrl, secretsKey: testSecretsKey(), webhooks: { claimMs: 3_500, totalTimeoutMs: 2_000 } };
    const { storage } = await sharedStorage(t, options);
    const receiver = await startReceiver(t);
    const { secret } = await new Webhooks({ storage, clock: systemClock, config: { allowPrivateUrls: true } }).create({ url: receiver.url });
    receiver.secret = secret;
    const sent = new Map<string, string[]>();
    for (let i = 0; i < 6; i++) {
      const e = event(`store-${i % 2}`);
      await storage.webhooks.appendEvent(e);
      sent.set(e.storeId, [...(sent.get(e.storeId) ?? []), e.id]);
    }
    receiver.holdNext(1);
    const a = await spawnInstance(t, options);
    await waitFor('A to send a delivery and wait for its answer', () => receiver.requests.some((r) => r.answered === 0), 20_000);
    const held = receiver.requests.find((r) => r.answered === 0)!;
    a.process.kill('SIGKILL');
    const beforeKill = receiver.requests.length;
    await new Promise((resolve) => a.process.once('exit', resolve));
    await waitFor("the receiver to see A's connection close", () => held.closed);

    await spawnInstance(t, options);
    // Distinct events: a repeat of what A had in flight must not stand in for one still to come.
    await waitFor('every event delivered by B', () => new Set(receiver.delivered().map((d) => d.eventId)).size >= 6, 30_000);
    // At least once: an attempt A had sent when it died (answered or not) may be sent again by B, same id.
    const inFlightAtKill = new Set(receiver.requests.slice(0, beforeKill + 1).map((r) => r.eventId));
    const firsts = receiver.delivered().filter((d, i, all) => all.findIndex((x) => x.eventId === d.eventId) === i);
    t.deepEqual(Object.fromEntries(deliveredByStore(firsts)), Object.fromEntries(sent), 'every event, per store in order');
    const repeated = receiver.delivered().filter((d, i, all) => all.findIndex((x) => x.eventId === d.eventId) !== i);
    t.true(repeated.every((d) => inFlightAtKill.has(d.eventId)), 'only what A had in flight is sent twice');
    t.true(receiver.delivered().some((d) => d.eventId === held.eventId), 'the delivery A died in was sent again, with the same id');
    // B records an answer after the receiver has it: the rows settle a moment after the last delivery arrived.
    const subscription = (await storage.webhooks.subscriptions())[0]!.id;
    await waitFor('every delivery recorded as delivered, no claim left', async () => {
      const rows = await storage.webhooks.deliveries(subscription, 10);
      return rows.length > 0 && rows.every((d) => d.status === 'delivered' && d.claimedBy === null);
    }, 10_000);
  });

  test.serial('two running instances share the backlog; never two attempts of one delivery at once', async (t) => {
    const { url: databaseUrl } = await freshDatabase(backend);
    const options = { databaseUrl, secretsKey: testSecretsKey() };
    const { storage } = await sharedStorage(t, options);
    const receiver = await startReceiver(t);
    const { secret } = await new Webhooks({ storage, clock: systemClock, config: { allowPrivateUrls: true } }).create({ url: receiver.url });
    receiver.secret = secret;
    receiver.down();
    await Promise.all([spawnInstance(t, options), spawnInstance(t, options)]);
    const sent = new Map<string, string[]>();
    for (let i = 0; i < 30; i++) {
      const e = event(`store-${i % 6}`);
      await storage.webhooks.appendEvent(e);
      sent.set(e.storeId, [...(sent.get(e.storeId) ?? []), e.id]);
    }
    await waitFor('some refused attempts', () => receiver.requests.length >= 10, 20_000);
    receiver.up();
    await waitFor('every event delivered', () => receiver.delivered().length >= 30, 40_000);
    t.is(receiver.maxConcurrentPerEvent(), 1);
    t.is(new Set(receiver.delivered().map((d) => d.eventId)).size, 30);
    t.is(receiver.delivered().length, 30, 'each delivered once');
    t.deepEqual(Object.fromEntries(deliveredByStore(receiver.delivered())), Object.fromEntries(sent));
  });
});
