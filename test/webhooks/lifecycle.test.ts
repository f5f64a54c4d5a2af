// Lifecycle events from the binding transitions themselves, end to end on both backends: an operator creates an
// account (with an externalId) and a key, subscribes a webhook, the merchant activates through the mock store, and a
// real receiver gets store.connected signed and verifiable; Delete in the mock admin and the next call -> store.revoked;
// Reauthorize -> store.reauthorized; disconnect -> store.deleted; a receiver that is down gets every event afterwards,
// in order, once. Plus the storage half: the event is written in the same transaction, so a lost race writes none.
import { createHmac, randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { OffsetClock } from '../../src/clock.js';
import { hashPassword } from '../../src/accounts/passwords.js';
import { transitionEvent } from '../../src/activation/transitions.js';
import type { Binding } from '../../src/storage/types.js';
import { bindingEvents } from '../../src/webhooks/events.js';
import { callApi, type ApiResponse } from '../helpers/activated.js';
import { Browser, createAndActivate, finishInPopup, PASSWORD, startConnector, startMockStore, waitFor, waitForState, type Connector } from '../helpers/connector.js';
import { forEachBackend, freshStorage } from '../helpers/db.js';
import { startReceiver, TOLERANCE_SECONDS, type Receiver } from '../helpers/webhook-receiver.js';

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The recipe the README gives a receiver: HMAC-SHA256 of "<t>.<raw body>" with the secret, and a tolerance on t. */
function verifiedByRecipe(secret: string, header: string, raw: string): boolean {
  const fields = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const t = Number(fields.get('t'));
  const expected = createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex');
  return fields.get('v1') === expected && Math.abs(Date.now() / 1000 - t) <= TOLERANCE_SECONDS;
}

interface Setup {
  connector: Connector;
  receiver: Receiver;
  secret: string;
  account: { id: string; email: string; externalId: string };
  accountKey: string;
  operator: (method: string, path: string, init?: object) => Promise<ApiResponse>;
}

async function operatorSetup(backend: 'sqlite' | 'postgresql', t: ExecutionContext): Promise<Setup> {
  const connector = await startConnector(backend, t);
  const receiver = await startReceiver(t);
  const key = (await connector.running.services.operators.keys.create('crm')).key;
  const operator = (method: string, path: string, init = {}) => callApi(`${connector.url}/api${path}`, method, key, init);
  const externalId = `tenant-${randomUUID()}`;
  const created = await operator('POST', '/accounts', json({ email: `shop-${randomUUID()}@example.com`, externalId }));
  if (created.status !== 201) throw new Error(created.text);
  const account = created.json as { id: string; email: string; externalId: string };
  const accountKey = ((await operator('POST', `/accounts/${account.id}/api-keys`, json({ name: 'crm backend' }))).json as { key: string }).key;
  const hook = await operator('POST', '/webhooks', json({ url: receiver.url }));
  if (hook.status !== 201) throw new Error(hook.text);
  const secret = (hook.json as { secret: string }).secret;
  receiver.secret = secret;
  // The merchant chooses a password for the account the operator made (as a password reset would let them).
  await connector.running.services.storage.credentials.setPasswordHash(account.id, await hashPassword(PASSWORD));
  return { connector, receiver, secret, account, accountKey, operator };
}

async function activate(s: Setup, mock: Awaited<ReturnType<typeof startMockStore>>) {
  // The integration carries the account's own URLs, as the operator API returned them (issue 13).
  const activation = await createAndActivate(mock, s.connector, 'CRM', { email: s.account.email, password: PASSWORD });
  await waitForState(s.connector, activation.consumerKey, 'request_token');
  const done = await finishInPopup(new Browser(), s.connector, activation.popupUrl, 'login', s.account.email, PASSWORD);
  if (done.status !== 302) throw new Error(`popup answered ${done.status}: ${done.text.slice(0, 300)}`);
  return { ...activation, binding: await waitForState(s.connector, activation.consumerKey, 'active') };
}

const types = (r: Receiver) => r.delivered().map((d) => d.body.type);

forEachBackend((backend, test) => {
  test('operator account -> activation: store.connected signed and verifiable, the store as the API shows it, no secret', async (t) => {
    const s = await operatorSetup(backend, t);
    const mock = await startMockStore(t);
    const { binding } = await activate(s, mock);
    const [connected] = await waitFor('store.connected', () => (s.receiver.delivered().length >= 1 ? s.receiver.delivered() : undefined));
    t.is(connected!.body.type, 'store.connected');
    t.true(connected!.verified);
    t.true(verifiedByRecipe(s.secret, connected!.signature, connected!.raw), 'verifiable with the documented recipe');
    t.is(connected!.eventId, connected!.body.id);
    const shown = await callApi(`${s.connector.url}/api/stores/${binding.id}`, 'GET', s.accountKey);
    // The store as GET /api/stores/:id shows it: every field the event carries, with the same value. (GET adds what
    // only a live read can say: this instance's availability, the store views, the newest timeline steps.)
    const event = connected!.body.data.store as Record<string, unknown>;
    const live = shown.json as Record<string, unknown>;
    t.deepEqual(Object.keys(live).filter((k) => !(k in event)).sort(), ['availability', 'storeViews', 'timeline']);
    // The event is the store at the moment it connected; since then the signing profile was detected (right after
    // activation) and the row touched (updatedAt): those two may differ, every other field must not.
    for (const [field, value] of Object.entries(event)) if (field !== 'updatedAt' && field !== 'signing') t.deepEqual(value, live[field], field);
    t.deepEqual(event.signing, { profile: null, detectedAt: null }, 'connected before its profile was detected');
    t.true(Date.parse(event.updatedAt as string) <= Date.parse(live.updatedAt as string), 'the event is not newer than the store');
    t.deepEqual(connected!.body.data.account, { id: s.account.id, externalId: s.account.externalId });
    for (const secret of [binding.consumerSecret, binding.accessToken!.token, binding.accessToken!.secret]) t.false(connected!.raw.includes(secret));
    t.is(s.receiver.delivered().length, 1, 'once');
  });

  test('Delete in Magento -> store.revoked; Reauthorize... -> store.reauthorized; disconnect -> store.deleted; a receiver down meanwhile gets all, in order, once', async (t) => {
    const s = await operatorSetup(backend, t);
    const mock = await startMockStore(t);
    const first = await activate(s, mock);
    await waitFor('store.connected', () => s.receiver.delivered().length === 1);

    s.receiver.down();
    mock.admin.delete(first.integrationId);
    const call = await callApi(`${s.connector.url}/api/stores/${first.binding.id}/rest/V1/products/24-MB01`, 'GET', s.accountKey);
    t.is(call.status, 401);
    t.is((await s.connector.binding(first.consumerKey))!.state, 'revoked');
    // The same answer again changes nothing: no second event.
    t.not((await callApi(`${s.connector.url}/api/stores/${first.binding.id}/rest/V1/products/24-MB01`, 'GET', s.accountKey)).status, 200);

    // A second store of the account: connected, reauthorized, then disconnected on the account page's route.
    const second = await activate(s, mock);
    const reauth = await mock.admin.reauthorize(second.integrationId);
    t.true(reauth.callback?.ok);
    await waitFor('the new request token', async () => (await s.connector.binding(second.consumerKey))?.requestToken ?? undefined);
    const done = await finishInPopup(new Browser(), s.connector, reauth.popupUrl!, 'login', s.account.email, PASSWORD);
    t.is(done.status, 302);
    await waitFor('reauthorized', async () => {
      const b = await s.connector.binding(second.consumerKey);
      return b && b.accessToken?.token !== second.binding.accessToken?.token;
    });
    t.is((await callApi(`${s.connector.url}/api/stores/${first.binding.id}`, 'DELETE', s.accountKey)).status, 204);
    t.is((await s.operator('DELETE', `/stores/${second.binding.id}`)).status, 204);
    t.is((await callApi(`${s.connector.url}/api/stores/${second.binding.id}`, 'DELETE', s.accountKey)).status, 404, 'gone already: no second event');

    await waitFor('failed attempts while down', () => s.receiver.requests.length >= 3);
    t.is(s.receiver.delivered().length, 1);
    s.receiver.up();
    await waitFor('every event', () => s.receiver.delivered().length >= 6, 20_000);
    const byStore = (id: string) => s.receiver.delivered().filter((d) => d.body.data.store.id === id).map((d) => d.body.type);
    t.deepEqual(byStore(first.binding.id), ['store.connected', 'store.revoked', 'store.deleted']);
    t.deepEqual(byStore(second.binding.id), ['store.connected', 'store.reauthorized', 'store.deleted']);
    const ids = s.receiver.delivered().map((d) => d.body.id);
    t.is(new Set(ids).size, ids.length, 'each event once');
    t.true(s.receiver.delivered().every((d) => d.verified));
    const revoked = s.receiver.delivered().find((d) => d.body.type === 'store.revoked')!;
    t.like(revoked.body.data.store, { state: 'revoked', id: first.binding.id });
    t.deepEqual(revoked.body.data.account, { id: s.account.id, externalId: s.account.externalId });
    t.is(types(s.receiver).length, 6);
  });

  test('bindings.modify writes the event in the transition\'s own transaction: once per transition, none for a lost race', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const events = bindingEvents(storage.accounts, clock);
    await storage.webhooks.createSubscription({ id: randomUUID(), url: 'https://crm.example.com/h', events: null, secret: 's' });
    const sub = (await storage.webhooks.subscriptions())[0]!;
    const b = (await storage.bindings.create({
      id: randomUUID(), consumerKey: `ck-${randomUUID()}`, storeBaseUrl: 'https://shop.example/', state: 'pending',
      consumerSecret: 'cs', verifier: 'v', callbackAt: clock.now(),
    }))!;
    const fail = (cur: Binding) => (cur.state === 'failed' ? null : { state: 'failed' as const, lastError: 'x' });
    // A stale row first: its conditional update (and so its event) loses; the re-read wins once.
    const moved = (await storage.bindings.update(b.id, b.version, { lastError: 'moved on' }))!;
    t.not(moved.version, b.version);
    const failed = await storage.bindings.modify(b.id, fail, b, events);
    t.is(failed!.state, 'failed');
    await storage.bindings.modify(b.id, fail, undefined, events); // no change, no event
    const written = await storage.webhooks.deliveries(sub.id, 10);
    t.deepEqual(written.map((d) => d.type), ['store.failed']);
    const event = (await storage.webhooks.event(written[0]!.eventId))!;
    t.like(JSON.parse(event.payload), { store: { id: b.id, state: 'failed', updatedAt: failed!.updatedAt.toISOString() }, account: { id: null, externalId: null } });

    // A deletion and its event together; a deletion of nothing writes none.
    t.true(await storage.bindings.delete(b.id, undefined, events));
    t.false(await storage.bindings.delete(b.id, undefined, events));
    t.deepEqual((await storage.webhooks.deliveries(sub.id, 10)).map((d) => d.type), ['store.deleted', 'store.failed']);
  });
});

test('transitionEvent: a new token is connected on a first activation, reauthorized after one; revoked and failed on entry', (t) => {
  const base = { state: 'pending', accessToken: null, activatedAt: null } as unknown as Binding;
  const token = { token: 'a', secret: 's', verifier: 'v' };
  t.is(transitionEvent(base, { state: 'active', accessToken: token }), 'store.connected');
  t.is(transitionEvent({ ...base, state: 'failed' }, { state: 'active', accessToken: token }), 'store.connected');
  const active = { ...base, state: 'active', accessToken: token, activatedAt: new Date() } as Binding;
  t.is(transitionEvent(active, { state: 'active', accessToken: { ...token, token: 'b' } }), 'store.reauthorized');
  t.is(transitionEvent({ ...active, state: 'pending', accessToken: null }, { state: 'active', accessToken: token }), 'store.reauthorized');
  t.is(transitionEvent(active, { state: 'active', accessToken: { ...token } }), null, 'the same token again');
  t.is(transitionEvent(active, { state: 'revoked', accessToken: null }), 'store.revoked');
  t.is(transitionEvent({ ...active, state: 'revoked' }, { state: 'revoked' }), null);
  t.is(transitionEvent(base, { state: 'failed' }), 'store.failed');
  t.is(transitionEvent({ ...base, state: 'failed' }, { state: 'failed', lastError: 'again' }), null);
  t.is(transitionEvent(base, { state: 'request_token', step: null }), null);
  t.is(transitionEvent(active, { step: 'access_token' }), null);
});
