import { forEachBackend } from '../helpers/db.js';
import { Browser, createAndActivate, finishInPopup, storeAndConnector, waitForState } from '../helpers/connector.js';

forEachBackend((backend, test) => {
  test('sign-up in the popup connects the store; Magento shows Active only then; a signed call works', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);

    // Right after the callback: the request token is fetched, Magento still shows the integration inactive.
    const held = await waitForState(connector, consumerKey, 'request_token');
    t.is(held.storeBaseUrl, mock.baseUrl);
    t.is(held.accountId, null);
    t.is(mock.admin.get(integrationId).status, 'inactive');
    t.deepEqual(mock.admin.get(integrationId).tokens.map((r) => r.type), ['request']);

    const done = await finishInPopup(new Browser(), connector, popupUrl, 'signup', 'merchant@example.com', 'correct horse battery');
    t.is(done.status, 302, done.text.slice(0, 500));
    t.is(done.location, mock.successCallbackUrl);

    const active = await connector.binding(consumerKey);
    t.is(active?.state, 'active');
    t.truthy(active?.accountId);
    t.is(mock.admin.get(integrationId).status, 'active');
    t.deepEqual(mock.admin.get(integrationId).tokens.map((r) => r.type), ['access']);
    t.is(active?.accessToken?.token, mock.admin.get(integrationId).tokens[0]!.token);

    const product = await connector.running.services.client(active!.accountId!).forStore(active!.id).get<{ sku: string }>('V1/products/24-MB01');
    t.is(product.sku, '24-MB01');
  });
});
