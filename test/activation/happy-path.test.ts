import { forEachBackend } from '../helpers/db.js';
import { Browser, createAndActivate, finishInPopup, MERCHANT, storeAndConnector, waitForState } from '../helpers/connector.js';

forEachBackend((backend, test) => {
  test("a merchant's own URLs: the binding is the account's from the callback; signing in in the popup connects it; Magento shows Active only then; a signed call works", async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    // The merchant signed up on the account page and pasted the account's own two URLs into Magento (issue 13).
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);
    const merchant = (await connector.running.services.storage.accounts.byEmail(MERCHANT.email))!;
    t.regex(mock.admin.get(integrationId).callbackUrl, /\/magento\/callback\/[A-Za-z0-9_-]{43}$/);

    // Right after the callback: the request token is fetched, Magento still shows the integration inactive.
    const held = await waitForState(connector, consumerKey, 'request_token');
    t.is(held.storeBaseUrl, mock.baseUrl);
    t.is(held.accountId, merchant.id);
    t.is(mock.admin.get(integrationId).status, 'inactive');
    t.deepEqual(mock.admin.get(integrationId).tokens.map((r) => r.type), ['request']);

    const page = await new Browser().get(popupUrl);
    t.notRegex(page.text, /Create an account/, 'no sign-up in an account\'s own popup');
    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 500));
    t.is(done.location, mock.successCallbackUrl);

    const active = await connector.binding(consumerKey);
    t.is(active?.state, 'active');
    t.is(active?.accountId, merchant.id);
    t.is(mock.admin.get(integrationId).status, 'active');
    t.deepEqual(mock.admin.get(integrationId).tokens.map((r) => r.type), ['access']);
    t.is(active?.accessToken?.token, mock.admin.get(integrationId).tokens[0]!.token);

    const product = await connector.running.services.client(active!.accountId!).forStore(active!.id).get<{ sku: string }>('V1/products/24-MB01');
    t.is(product.sku, '24-MB01');
  });

  test('OPEN_SIGNUP_ACTIVATION: sign-up in the shared popup (store confirmed) connects the store; it belongs to no account until then', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t, { openSignup: true });
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector, 'CRM', 'shared');
    t.is(mock.admin.get(integrationId).callbackUrl, `${connector.url}/magento/callback`);

    const held = await waitForState(connector, consumerKey, 'request_token');
    t.is(held.accountId, null);
    t.is(mock.admin.get(integrationId).status, 'inactive');

    const done = await finishInPopup(new Browser(), connector, popupUrl, 'signup', 'newcomer@example.com', 'correct horse battery');
    t.is(done.status, 302, done.text.slice(0, 500));
    t.is(done.location, mock.successCallbackUrl);
    const active = await connector.binding(consumerKey);
    t.is(active?.state, 'active');
    t.is(active?.accountId, (await connector.running.services.storage.accounts.byEmail('newcomer@example.com'))!.id);
    t.is(mock.admin.get(integrationId).status, 'active');
  });
});
