// The binding timeline and the signing profile in storage, on every backend: events bounded per binding (newest kept,
// in writing order within one millisecond), details cut to 500 characters, gone with the binding; the profile
// stored only while the binding holds the access token the detection used.
import { randomUUID } from 'node:crypto';
import { profileDetected } from '../../src/activation/transitions.js';
import { forEachBackend, freshStorage } from '../helpers/db.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');

forEachBackend((backend, test) => {
  test('events: newest first, the newest `keep` kept, long details cut, deleted with the binding', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const make = async () =>
      (await storage.bindings.create({
        id: randomUUID(),
        consumerKey: `ck${randomUUID().replace(/-/g, '')}`,
        storeBaseUrl: 'https://shop.example.com/',
        state: 'pending',
        consumerSecret: 'secret',
        verifier: 'v',
        callbackAt: T0,
      }))!;
    const [a, b] = [await make(), await make()];
    for (let i = 0; i < 8; i++) await storage.bindingEvents.record({ bindingId: a.id, at: T0, kind: 'detection', detail: `step ${i}` }, { keep: 5 });
    await storage.bindingEvents.record({ bindingId: b.id, at: T0, kind: 'callback_received', detail: 'x'.repeat(800) }, { keep: 5 });
    const recent = await storage.bindingEvents.recent(a.id, 10);
    t.deepEqual(recent.map((e) => e.detail), ['step 7', 'step 6', 'step 5', 'step 4', 'step 3']);
    t.is(recent[0]!.kind, 'detection');
    t.deepEqual(recent[0]!.at, T0);
    t.deepEqual((await storage.bindingEvents.recent(a.id, 2)).map((e) => e.detail), ['step 7', 'step 6']);
    const [long] = await storage.bindingEvents.recent(b.id, 10);
    t.is(long!.detail.length, 500);
    t.true(long!.detail.endsWith('…'));

    t.true(await storage.bindings.delete(a.id));
    t.deepEqual(await storage.bindingEvents.recent(a.id, 10), []);
    t.is((await storage.bindingEvents.recent(b.id, 10)).length, 1, "another binding's events stay");
  });

  test('signingProfile: stored only while the binding holds the detection\'s access token; read back as stored', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const created = (await storage.bindings.create({
      id: randomUUID(),
      consumerKey: `ck${randomUUID().replace(/-/g, '')}`,
      storeBaseUrl: 'https://shop.example.com/',
      state: 'pending',
      consumerSecret: 'secret',
      verifier: 'v',
      callbackAt: T0,
    }))!;
    t.is(created.signingProfile, null);
    t.is(created.profileDetectedAt, null);
    const active = (await storage.bindings.update(created.id, created.version, {
      state: 'active',
      accessToken: { token: 'tok1', secret: 's1', verifier: 'v' },
    }))!;
    const stale = await storage.bindings.modify(active.id, (cur) => profileDetected(cur, { accessToken: 'tok0', profile: 'native', at: T0 }));
    t.is(stale!.signingProfile, null, 'a detection made with another token is not stored');
    const stored = (await storage.bindings.modify(active.id, (cur) => profileDetected(cur, { accessToken: 'tok1', profile: 'native', at: T0 })))!;
    t.is(stored.signingProfile, 'native');
    t.deepEqual(stored.profileDetectedAt, T0);
    t.is(stored.version, active.version + 1);
    const same = (await storage.bindings.modify(active.id, (cur) => profileDetected(cur, { accessToken: 'tok1', profile: 'native', at: new Date() })))!;
    t.is(same.version, stored.version, 'the same profile again changes nothing');
    t.like(await storage.bindings.byId(active.id), { signingProfile: 'native', profileDetectedAt: T0 });
  });
});
