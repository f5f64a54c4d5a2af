// After activation: Reauthorize (same binding, new tokens), Delete in Magento (revoked on our next call), and a
// Reauthorize popup finished by someone signed in to another account.
import type { ExecutionContext } from 'ava';
import { MagentoApiError, StoreNotActiveError } from '../../src/store-api/errors.js';
import type { Binding } from '../../src/storage/types.js';
import { forEachBackend } from '../helpers/db.js';
import {
  activateAndSignUp,
  assertConnectedAgain,
  Browser,
  type Connector,
  createAndActivate,
  finishInPopup,
  hiddenFields,
  popupBase,
  PASSWORD,
  settle,
  storeAndConnector,
  tokenCalls,
  waitFor,
  waitForState,
} from '../helpers/connector.js';
import { signed } from '../mock-store/helpers.js';
import type { MockStore } from '../../src/mock-store/app.js';



/** A signed GET straight to the mock with the given access token (not through the connector). */
function getProductWith(mock: MockStore, b: Binding, token: { token: string; secret: string }) {
  return signed('GET', `${mock.baseUrl}rest/V1/products/24-MB01`, {
    consumerKey: b.consumerKey,
    consumerSecret: b.consumerSecret,
    token: token.token,
    tokenSecret: token.secret,
  });
}

forEachBackend((backend, test) => {
  test('Reauthorize: the same binding gets new tokens after the popup; it stays active meanwhile; the old token is dead, the new one works', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { integrationId, consumerKey, binding: before } = await activateAndSignUp(mock, connector, 'owner@example.com');
    const oldToken = before.accessToken!;
    t.is((await getProductWith(mock, before, oldToken)).status, 200);

    const reauth = await mock.admin.reauthorize(integrationId);
    t.deepEqual(reauth.callback, { ok: true, status: 200 });
    const waiting = await waitFor('the new request token', async () => {
      const b = await connector.binding(consumerKey);
      return b?.requestToken && b.step === null ? b : undefined;
    });
    t.is(waiting.state, 'active', 'still active while reauthorizing');
    t.is(waiting.id, before.id);
    t.is(waiting.accountId, before.accountId);
    t.deepEqual(waiting.accessToken, oldToken, 'the old token is kept until Magento issues a new one');
    t.is(waiting.verifier, null);
    t.is(waiting.nextAttemptAt, null);
    t.is(waiting.requestToken?.verifier, mock.admin.get(integrationId).tokens[0]!.verifier);
    t.is(mock.admin.get(integrationId).status, 'inactive');

    const browser = new Browser();
    const page = await browser.get(reauth.popupUrl!);
    t.is(page.status, 200);
    // The popup's forms post under the account's own Identity Link URL (issue 13).
    const done = await browser.post(`${connector.url}${new URL(reauth.popupUrl!).pathname}/login`, { ...hiddenFields(page.text), email: 'owner@example.com', password: PASSWORD });
    t.is(done.status, 302, done.text.slice(0, 500));
    t.is(done.location, mock.successCallbackUrl);

    const after = (await connector.binding(consumerKey))!;
    t.is(after.id, before.id);
    t.is(after.state, 'active');
    t.is(after.accountId, before.accountId);
    t.is(after.requestToken, null);
    t.notDeepEqual(after.accessToken, oldToken);
    const magento = mock.admin.get(integrationId);
    t.is(magento.status, 'active');
    t.deepEqual(magento.tokens.map((r) => r.type), ['access']);
    t.is(after.accessToken?.token, magento.tokens[0]!.token);
    t.deepEqual((await connector.running.services.storage.bindings.list()).map((b) => b.id), [before.id], 'no second binding');

    const old = await getProductWith(mock, before, oldToken);
    t.is(old.status, 401);
    t.is((JSON.parse(old.body) as { message: string }).message, 'Specified token does not exist');
    t.is((await getProductWith(mock, before, after.accessToken!)).status, 200);
    const product = await connector.running.services.client(after.accountId!).forStore(after.id).get<{ sku: string }>('V1/products/24-MB01');
    t.is(product.sku, '24-MB01');
  });

  test('a CRM call made during a Reauthorize sees Magento\'s 401 and marks the store revoked; finishing the popup makes it active again', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { integrationId, consumerKey, binding: before } = await activateAndSignUp(mock, connector, 'owner@example.com');
    const reauth = await mock.admin.reauthorize(integrationId);
    await settle(connector);
    t.truthy((await connector.binding(consumerKey))?.requestToken);

    const store = connector.running.services.client(before.accountId!).forStore(before.id);
    const refused = await t.throwsAsync(store.get('V1/products/24-MB01'), { instanceOf: MagentoApiError });
    t.is(refused.status, 401);
    t.is(refused.magentoMessage, 'Specified token does not exist');
    const revoked = (await connector.binding(consumerKey))!;
    t.is(revoked.state, 'revoked');
    t.is(revoked.accessToken, null);
    t.truthy(revoked.requestToken, 'the reauthorization in progress is kept');

    const done = await finishInPopup(new Browser(), connector, reauth.popupUrl!, 'login', 'owner@example.com', PASSWORD);
    t.is(done.status, 302, done.text.slice(0, 300));
    await assertConnectedAgain(t, connector, mock, integrationId, before);
    t.is((await store.get<{ sku: string }>('V1/products/24-MB01')).sku, '24-MB01');
  });

  // StoreCalls serves a binding from its cache for limits.cacheTtlMs: the first call after a Reauthorize finished in
  // this process still signs with the old, dead token. It must come back with the new token, not Magento's 401.
  /** A store called once (its binding now cached for a minute), then reauthorized in Magento and the popup. */
  async function reauthorizedWhileCached(t: ExecutionContext) {
    const { mock, connector } = await storeAndConnector(backend, t, { limits: { cacheTtlMs: 60_000 } });
    const { integrationId, consumerKey, binding: before } = await activateAndSignUp(mock, connector, 'owner@example.com');
    const store = connector.running.services.client(before.accountId!).forStore(before.id);
    t.is((await store.get<{ sku: string }>('V1/products/24-MB01')).sku, '24-MB01'); // caches the binding
    const reauth = await mock.admin.reauthorize(integrationId);
    await settle(connector);
    const done = await finishInPopup(new Browser(), connector, reauth.popupUrl!, 'login', 'owner@example.com', PASSWORD);
    t.is(done.status, 302, done.text.slice(0, 300));
    return { mock, connector, store, integrationId, consumerKey };
  }

  test('the first call after a Reauthorize uses the new token even if the binding was cached just before', async (t) => {
    const { store } = await reauthorizedWhileCached(t);
    t.is((await store.get<{ sku: string }>('V1/products/24-MB01')).sku, '24-MB01');
  });

  test('a Reauthorize then a Delete while the binding was cached: the first call (old token, then the new one) revokes it', async (t) => {
    const { mock, connector, store, integrationId, consumerKey } = await reauthorizedWhileCached(t);
    mock.admin.delete(integrationId);
    const refused = await t.throwsAsync(store.get('V1/products/24-MB01'), { instanceOf: MagentoApiError });
    t.is(refused.status, 401);
    const revoked = (await connector.binding(consumerKey))!;
    t.like(revoked, { state: 'revoked', accessToken: null, fix: 'reauthorize' });
  });

  test('a Reauthorize whose request token never came (store down until the window closed): the popup says so instead of "connected"', async (t) => {
    const windowMs = 60_000;
    const { mock, connector } = await storeAndConnector(backend, t, { durations: { magentoWindowMs: windowMs, retryBaseDelayMs: 50, retryMaxDelayMs: 200 } });
    const { integrationId, consumerKey, binding: before } = await activateAndSignUp(mock, connector, 'owner@example.com');

    mock.knobs.addFault({ kind: 'fail', status: 503, pathPrefix: '/oauth/token/request', count: 1_000 });
    const reauth = await mock.admin.reauthorize(integrationId);
    await waitFor('a failed attempt', async () => {
      const b = await connector.binding(consumerKey);
      return b?.lastError && b.step === null ? b : undefined;
    });
    connector.clock.advance(windowMs);
    mock.knobs.advanceClock(windowMs / 1000);
    const given = await waitFor('the reauthorization to be given up', async () => {
      await settle(connector);
      const b = await connector.binding(consumerKey);
      return b && b.verifier === null && b.step === null ? b : undefined;
    });
    t.is(given.state, 'active', 'the binding keeps its state; its token is Magento\'s to kill');
    t.is(given.fix, 'check_store');
    t.regex(given.lastError ?? '', /^Could not get a request token from the store: /);
    t.is(mock.admin.get(integrationId).status, 'inactive');

    const done = await finishInPopup(new Browser(), connector, reauth.popupUrl!, 'login', 'owner@example.com', PASSWORD);
    t.is(done.status, 409, done.text.slice(0, 300));
    t.is(done.location, null, 'not sent back to Magento as if connected');
    t.regex(done.text, /The store could not be connected/);
    t.regex(done.text, /We could not reach the store/);
    t.is(tokenCalls(mock, 'access').length, 1, 'only the first activation\'s');
    t.is((await connector.binding(consumerKey))?.accessToken?.token, before.accessToken!.token);

    // The store is back; Magento now offers Activate (the integration is inactive) and reuses its verifier row.
    mock.knobs.clearFaults();
    const again = await mock.admin.activate(integrationId);
    const retried = await finishInPopup(new Browser(), connector, again.popupUrl!, 'login', 'owner@example.com', PASSWORD);
    t.is(retried.status, 302, retried.text.slice(0, 300));
    await assertConnectedAgain(t, connector, mock, integrationId, before);
    t.is(mock.admin.get(integrationId).status, 'active');
  });

  test('Delete in Magento: our next call gets 401, the binding becomes revoked with Magento\'s message; later calls are refused without reaching the store', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { integrationId, consumerKey, binding } = await activateAndSignUp(mock, connector, 'owner@example.com');
    const store = connector.running.services.client(binding.accountId!).forStore(binding.id);
    t.is((await store.get<{ sku: string }>('V1/products/24-MB01')).sku, '24-MB01');

    mock.admin.delete(integrationId);
    const refused = await t.throwsAsync(store.get('V1/products/24-MB01'), { instanceOf: MagentoApiError });
    t.is(refused.status, 401);
    t.is(refused.magentoMessage, 'A consumer having the specified key does not exist');

    const revoked = (await connector.binding(consumerKey))!;
    t.is(revoked.state, 'revoked');
    t.is(revoked.id, binding.id);
    t.is(revoked.accountId, binding.accountId);
    t.is(revoked.accessToken, null, 'the dead token is not kept');
    t.is(revoked.lastError, 'Magento refused our access token: A consumer having the specified key does not exist');
    t.is(revoked.fix, 'reauthorize');
    t.truthy(revoked.revokedAt);

    const before = mock.knobs.requests().length;
    for (let i = 0; i < 2; i++) {
      const err = await t.throwsAsync(store.get('V1/products/24-MB01'), { instanceOf: StoreNotActiveError });
      t.is(err.code, 'store_revoked');
      t.regex(err.message, /A consumer having the specified key does not exist/);
      t.regex(err.message, /Reauthorize/);
    }
    t.is(mock.knobs.requests().length, before, 'nothing reached the store');
    t.deepEqual(await connector.binding(consumerKey), revoked);
  });

  test('a Reauthorize popup finished by a merchant of another account: 409 page, the binding left as it was', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { services } = connector.running;
    await services.accounts.signUp('intruder@example.com', PASSWORD);
    const { integrationId, consumerKey, binding } = await activateAndSignUp(mock, connector, 'owner@example.com');

    const reauth = await mock.admin.reauthorize(integrationId);
    await settle(connector);
    const waiting = (await connector.binding(consumerKey))!;
    t.truthy(waiting.requestToken);
    t.is(waiting.state, 'active');

    // Issue 13: the popup is the owner's account's own; another account's member is refused (403), and there is no
    // sign-up form to post to.
    for (const [form, email, status] of [['login', 'intruder@example.com', 403], ['signup', 'newcomer@example.com', 404]] as const) {
      const browser = new Browser();
      const done =
        form === 'login'
          ? await finishInPopup(browser, connector, reauth.popupUrl!, form, email, PASSWORD)
          : await browser.post(`${connector.url}${popupBase(reauth.popupUrl!)}/signup`, { ...hiddenFields((await browser.get(reauth.popupUrl!)).text), email, password: PASSWORD });
      t.is(done.status, status, form);
      t.is(done.location, null);
      t.regex(done.headers.get('content-type') ?? '', /^text\/html/);
      if (form === 'login') t.regex(done.text, /This store belongs to another account/);
      if (form === 'login') t.regex(done.text, /belongs to another account/);
      t.deepEqual(await connector.binding(consumerKey), waiting, `${form}: binding unchanged`);
    }
    t.is(await services.storage.accounts.byEmail('newcomer@example.com'), null, 'no account created');
    t.is(tokenCalls(mock, 'access').length, 1, 'no access-token call for the intruder');
    t.is(mock.admin.get(integrationId).status, 'inactive');

    // The owner can still finish.
    const done = await finishInPopup(new Browser(), connector, reauth.popupUrl!, 'login', 'owner@example.com', PASSWORD);
    t.is(done.status, 302, done.text.slice(0, 300));
    const after = (await connector.binding(consumerKey))!;
    t.is(after.state, 'active');
    t.is(after.accountId, binding.accountId);
    t.is(mock.admin.get(integrationId).status, 'active');
  });
});
