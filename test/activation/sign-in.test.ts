// Activation finished by signing in to an existing account, late (after Magento's 300 s window), and with a
// success_call_back that is not on the store's host.
import { forEachBackend } from '../helpers/db.js';
import {
  Browser,
  createAndActivate,
  finishInPopup,
  MERCHANT,
  PASSWORD,
  startConnector,
  startMockStore,
  tokenCalls,
  waitForState,
} from '../helpers/connector.js';


forEachBackend((backend, test) => {
  test('sign-in with an existing account connects the store to that account; Magento shows Active; a signed call works', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t);
    const { services } = connector.running;
    const account = await services.accounts.signUp('Owner@Example.com', PASSWORD);
    // The integration carries the account's own URLs (issue 13): the binding is the account's from its first request.
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector, 'CRM', { email: 'owner@example.com', password: PASSWORD });

    const held = await waitForState(connector, consumerKey, 'request_token');
    t.is(held.accountId, account.id);
    t.is(mock.admin.get(integrationId).status, 'inactive');

    const browser = new Browser();
    const done = await finishInPopup(browser, connector, popupUrl, 'login', 'owner@example.com', PASSWORD);
    t.is(done.status, 302, done.text.slice(0, 500));
    t.is(done.location, mock.successCallbackUrl);
    t.truthy(browser.cookies.get('mc_session'), 'the popup signed the merchant in');

    const active = await connector.binding(consumerKey);
    t.is(active?.state, 'active');
    t.is(active?.accountId, account.id);
    t.is(active?.id, held.id);
    t.is(active?.requestToken, null);
    t.is(active?.verifier, null);
    t.is(active?.nextAttemptAt, null);
    t.is(active?.lastError, null);
    t.truthy(active?.activatedAt);
    const magento = mock.admin.get(integrationId);
    t.is(magento.status, 'active');
    t.deepEqual(magento.tokens.map((r) => r.type), ['access']);
    t.is(active?.accessToken?.token, magento.tokens[0]!.token);
    t.is(active?.accessToken?.secret, magento.tokens[0]!.secret);
    t.is(tokenCalls(mock, 'request').length, 1);
    t.is(tokenCalls(mock, 'access').length, 1);
    t.deepEqual((await services.storage.bindings.listByAccount(account.id)).map((b) => b.id), [held.id]);

    const product = await services.client(account.id).forStore(active!.id).get<{ sku: string }>('V1/products/24-MB01');
    t.is(product.sku, '24-MB01');
  });

  test('a merchant who signs up more than 300 s after the callback still connects (the held request token does not expire)', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t);
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);
    const held = await waitForState(connector, consumerKey, 'request_token');

    // Both clocks move: Magento's 300 s window (it only guards the request-token call) and ours.
    mock.knobs.advanceClock(301);
    connector.clock.advance(301_000);
    t.true(mock.clock.now().getTime() - new Date(mock.admin.get(integrationId).consumerUpdatedAt).getTime() > 300_000);

    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 500));
    t.is(done.location, mock.successCallbackUrl);
    const active = await connector.binding(consumerKey);
    t.is(active?.state, 'active');
    t.is(active?.id, held.id);
    t.is(active?.accessToken?.token, mock.admin.get(integrationId).tokens[0]!.token);
    t.is(mock.admin.get(integrationId).status, 'active');
    t.is(tokenCalls(mock, 'request').length, 1, 'the request token was not fetched again');
    const product = await connector.running.services.client(active!.accountId!).forStore(active!.id).get<{ sku: string }>('V1/products/24-MB01');
    t.is(product.sku, '24-MB01');
  });

  test('a merchant faster than the request-token call: the sign-in waits for it and connects', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t);
    mock.knobs.addFault({ kind: 'slow', delayMs: 1_500, pathPrefix: '/oauth/token/request', count: 1 });
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);
    t.is((await connector.binding(consumerKey))?.requestToken, null, 'the request token is not there yet');

    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 500));
    t.is(tokenCalls(mock, 'request').length, 1);
    t.is((await connector.binding(consumerKey))?.state, 'active');
    t.is(mock.admin.get(integrationId).status, 'active');
  });

  test('success_call_back on another host than the store: a "Connected" page, never a redirect', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t);
    const store = new URL(mock.baseUrl);
    for (const [i, elsewhere] of [
      'https://evil.example/admin/admin/integration/loginSuccessCallback/',
      `http://127.0.0.1:${Number(store.port) === 1 ? 2 : 1}/admin/admin/integration/loginSuccessCallback/`, // same IP, other port
      `http://127.0.0.1.evil.example:${store.port}/admin/`,
    ].entries()) {
      const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector, `CRM ${i}`);
      await waitForState(connector, consumerKey, 'request_token');
      const url = new URL(popupUrl);
      url.searchParams.set('success_call_back', elsewhere);
      const done = await finishInPopup(new Browser(), connector, url.href, 'login', MERCHANT.email, MERCHANT.password);
      t.is(done.status, 200, elsewhere);
      t.is(done.location, null);
      t.regex(done.headers.get('content-type') ?? '', /^text\/html/);
      t.regex(done.text, /<h1>Connected<\/h1>/);
      t.regex(done.text, /connected to merchant@example\.com/);
      t.false(done.text.includes(elsewhere), 'the foreign URL is not offered as a link either');
      t.is((await connector.binding(consumerKey))?.state, 'active');
      t.is(mock.admin.get(integrationId).status, 'active');
    }
  });
});
