// The callback is unsigned and can arrive twice: replays, forgeries for a known consumer key, and concurrent
// deliveries. None of them may run a step twice or touch a binding's tokens.
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { forEachBackend } from '../helpers/db.js';
import {
  activationUrlsFor,
  Browser,
  type CallbackFields,
  callbackFieldsOf,
  type Connector,
  finishInPopup,
  MERCHANT,
  PASSWORD,
  postCallback,
  settle,
  storeAndConnector,
  tokenCalls,
  waitFor,
  waitForState,
} from '../helpers/connector.js';
import { callbackReceiver } from '../mock-store/helpers.js';
import type { MockStore } from '../../src/mock-store/app.js';

const randomKey = (): string => randomBytes(16).toString('hex'); // 32 of [0-9a-f]

/**
 * Clicks Activate in the mock with the callback going to a receiver instead of the connector, so the test delivers
 * Magento's exact fields itself (as often, and as concurrently, as it likes).
 */
async function activateElsewhere(t: ExecutionContext, mock: MockStore, connector: Connector) {
  const receiver = await callbackReceiver(t);
  const integration = mock.admin.create({ name: 'CRM', callbackUrl: receiver.url, identityLinkUrl: (await activationUrlsFor(connector)).identityLinkUrl });
  const result = await mock.admin.activate(integration.id);
  const fields = receiver.received.at(-1)!.fields as CallbackFields;
  return { integrationId: integration.id, fields, popupUrl: result.popupUrl! };
}

async function accepted(t: ExecutionContext, connector: Connector, fields: CallbackFields, what: string) {
  const res = await postCallback(connector, { ...fields });
  t.is(res.status, 200, `${what}: ${res.text}`);
  t.is(res.headers.get('x-connector-error'), null, what);
  t.is(res.json?.status, 'accepted', what);
}

/**
 * Once the request token is held and the connector idle: exactly one request-token call was made, and the binding
 * keeps the token it holds, with no verifier waiting and no retry planned.
 */
async function heldOnceAndSettled(t: ExecutionContext, mock: MockStore, connector: Connector, consumerKey: string) {
  const held = await waitForState(connector, consumerKey, 'request_token');
  await settle(connector);
  t.is(tokenCalls(mock, 'request').length, 1);
  const after = (await connector.binding(consumerKey))!;
  t.is(after.verifier, null);
  t.is(after.nextAttemptAt, null);
  t.deepEqual(after.requestToken, held.requestToken);
}

forEachBackend((backend, test) => {
  test('a replayed callback while the request token is held: 200, no second request-token call, binding unchanged', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { integrationId, fields, popupUrl } = await activateElsewhere(t, mock, connector);
    t.deepEqual(fields, callbackFieldsOf(mock, integrationId));
    await accepted(t, connector, fields, 'first delivery');
    const held = await waitForState(connector, fields.oauth_consumer_key, 'request_token');
    await settle(connector);
    const before = (await connector.binding(fields.oauth_consumer_key))!;
    t.is(before.version, held.version);

    for (let i = 0; i < 3; i++) await accepted(t, connector, fields, `replay ${i}`);
    await settle(connector);
    t.is(tokenCalls(mock, 'request').length, 1);
    t.deepEqual(await connector.binding(fields.oauth_consumer_key), before, 'same row, same version');

    // The replays did not get in the way of finishing.
    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 300));
    t.is(mock.admin.get(integrationId).status, 'active');
  });

  /** Activates through the popup, then re-delivers the first callback; returns the binding before and after. */
  async function replayAfterActive(t: ExecutionContext) {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { integrationId, fields, popupUrl } = await activateElsewhere(t, mock, connector);
    await accepted(t, connector, fields, 'first delivery');
    await waitForState(connector, fields.oauth_consumer_key, 'request_token');
    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 300));
    await settle(connector); // the signing-profile detection that follows the access token
    const active = (await connector.binding(fields.oauth_consumer_key))!;
    t.is(active.state, 'active');

    await accepted(t, connector, fields, 'replay');
    await settle(connector);
    const after = (await connector.binding(fields.oauth_consumer_key))!;
    return { mock, connector, integrationId, active, after };
  }

  test('a replayed callback after activation: 200, tokens unchanged, nothing left pending, the access token still works', async (t) => {
    const { mock, connector, integrationId, active, after } = await replayAfterActive(t);
    t.is(after.state, 'active');
    t.deepEqual(after.accessToken, active.accessToken);
    t.is(after.accountId, active.accountId);
    t.is(after.verifier, null);
    t.is(after.requestToken, null);
    t.is(after.nextAttemptAt, null);
    t.is(after.step, null);
    t.is(after.lastError, null);
    t.is(after.fix, null);
    t.deepEqual(mock.admin.get(integrationId).tokens.map((r) => r.type), ['access']);
    t.is(mock.admin.get(integrationId).tokens[0]!.token, active.accessToken!.token);
    const product = await connector.running.services.client(active.accountId!).forStore(active.id).get<{ sku: string }>('V1/products/24-MB01');
    t.is(product.sku, '24-MB01');
  });

  // The binding keeps the verifier its access token was issued for, so a replay of that callback is told apart from
  // a Reauthorize (which always carries a new verifier).
  test('a replayed callback after activation reaches neither Magento nor the row', async (t) => {
    const { mock, active, after } = await replayAfterActive(t);
    t.is(tokenCalls(mock, 'request').length, 1, 'the replay did not reach Magento');
    t.is(after.version, active.version, 'the replay did not touch the row');
  });

  for (const [what, change] of [
    ['a different consumer secret', (f: CallbackFields) => ({ ...f, oauth_consumer_secret: randomKey() })],
    ['a different store URL', (f: CallbackFields) => ({ ...f, store_base_url: 'http://127.0.0.2:8080/' })],
    ['a different store URL and a new verifier', (f: CallbackFields) => ({ ...f, store_base_url: `${f.store_base_url}other/`, oauth_verifier: randomKey() })],
  ] as const) {
    test(`a forged callback for a known consumer key with ${what}: 409, binding left exactly as it was (pending and active)`, async (t) => {
      const { mock, connector } = await storeAndConnector(backend, t);
      const { fields, popupUrl } = await activateElsewhere(t, mock, connector);
      await accepted(t, connector, fields, 'genuine');
      await waitForState(connector, fields.oauth_consumer_key, 'request_token');
      await settle(connector);

      const forge = async (stage: string) => {
        const before = await connector.running.services.storage.bindings.list();
        const res = await postCallback(connector, change(fields));
        t.is(res.status, 409, stage);
        t.is(res.headers.get('x-connector-error'), 'callback_conflict', stage);
        t.is(res.json?.error?.code, 'callback_conflict');
        t.regex(res.json?.error?.message ?? '', /different consumer secret or store URL/);
        t.false(res.text.includes(fields.oauth_consumer_secret), 'the stored secret is not echoed');
        await settle(connector);
        t.deepEqual(await connector.running.services.storage.bindings.list(), before, `${stage}: nothing changed`);
      };
      await forge('while request_token');
      const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
      t.is(done.status, 302, done.text.slice(0, 300));
      await settle(connector); // the signing-profile detection that follows the access token
      await forge('while active');
      t.is(tokenCalls(mock, 'request').length, 1);
      const active = (await connector.binding(fields.oauth_consumer_key))!;
      const product = await connector.running.services.client(active.accountId!).forStore(active.id).get<{ sku: string }>('V1/products/24-MB01');
      t.is(product.sku, '24-MB01');
    });
  }

  test('the same callback delivered five times at once: one binding, exactly one request-token call', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { integrationId, fields, popupUrl } = await activateElsewhere(t, mock, connector);
    const answers = await Promise.all(Array.from({ length: 5 }, () => postCallback(connector, { ...fields })));
    t.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
    await waitForState(connector, fields.oauth_consumer_key, 'request_token');
    await settle(connector);
    t.is(tokenCalls(mock, 'request').length, 1);
    t.is((await connector.running.services.storage.bindings.list()).length, 1);
    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 300));
    t.is(mock.admin.get(integrationId).status, 'active');
  });

  test('two different verifiers at once for one key: exactly one request-token call', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { fields } = await activateElsewhere(t, mock, connector);
    const other = { ...fields, oauth_verifier: randomKey() };
    const answers = await Promise.all([postCallback(connector, { ...fields }), postCallback(connector, other)]);
    t.deepEqual(answers.map((a) => a.status), [200, 200]);
    await heldOnceAndSettled(t, mock, connector, fields.oauth_consumer_key);
    t.is((await connector.running.services.storage.bindings.list()).length, 1);
  });

  test('a second verifier arriving while the request-token call is in flight does not cause a second call', async (t) => {
    // The call is held for 5 s; generous timeouts keep a loaded machine from turning that into a lost answer.
    const { mock, connector } = await storeAndConnector(backend, t, { limits: { tokenCallTimeoutMs: 15_000, connectTimeoutMs: 10_000 }, durations: { stepLeaseMs: 30_000 } });
    const { fields } = await activateElsewhere(t, mock, connector);
    // The store holds the call long enough that the second callback surely arrives while it is in flight.
    mock.knobs.addFault({ kind: 'slow', delayMs: 5_000, pathPrefix: '/oauth/token/request', count: 1 });
    await accepted(t, connector, fields, 'genuine');
    await waitFor('the request-token call to reach the store', () => mock.knobs.listFaults().length === 0);
    await accepted(t, connector, { ...fields, oauth_verifier: randomKey() }, 'second verifier');

    await heldOnceAndSettled(t, mock, connector, fields.oauth_consumer_key);
    // (Which verifier the request token is recorded with is not asserted: the second one is a forgery, and when the
    // first call fails before reaching the store, as it can on a loaded machine, the newest verifier is fetched.)
  });
});
