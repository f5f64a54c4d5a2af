// Issue 9: what the popup and the account page say when Magento's state is not what the merchant expects.
// - A callback that reached us but was refused (an http:// store on a connector that accepts only https): the popup
//   says what was refused and the fix, instead of "we have not received Magento's callback"; the refusal is logged
//   (consumer key as a short hash only) and forgotten after 15 minutes.
// - An abandoned Reauthorize leaves the integration inactive in Magento, which then offers Activate, not Reauthorize:
//   every fix text says Activate.
import { createHash } from 'node:crypto';
import { FIX_TEXT, REFUSAL_FIX_TEXT } from '../../src/activation/fixes.js';
import { MagentoApiError } from '../../src/store-api/errors.js';
import { forEachBackend } from '../helpers/db.js';
import {
  activateAndSignUp,
  activationUrlsFor,
  Browser,
  createAndActivate,
  decodeHtml,
  finishInPopup,
  PASSWORD,
  storeAndConnector,
  waitFor,
  waitForState,
} from '../helpers/connector.js';

forEachBackend((backend, test) => {
  test('a refused callback: the popup names what was refused and the fix; the log has the reason, never the key', async (t) => {
    // The mock store is http://127.0.0.1: refused unless ALLOW_PRIVATE_STORE_URLS is set.
    const { mock, connector } = await storeAndConnector(backend, t, { allowPrivate: false });
    const integration = mock.admin.create({ name: 'CRM', ...(await activationUrlsFor(connector)) });
    const { callback, popupUrl } = await mock.admin.activate(integration.id);
    t.deepEqual(callback, { ok: true, status: 400 }, 'delivered, and refused');
    t.truthy(popupUrl, 'Magento opens the popup whatever we answered');
    t.is(await connector.binding(integration.consumerKey), null, 'nothing stored');

    const page = await new Browser().get(popupUrl!);
    t.is(page.status, 409, page.text.slice(0, 300));
    const text = decodeHtml(page.text);
    t.true(text.includes("Magento's callback reached us but we refused it: store_base_url must use https://"), text);
    t.true(text.includes(REFUSAL_FIX_TEXT.private_store_url), text);
    t.regex(text, /set ALLOW_PRIVATE_STORE_URLS=true/);
    t.false(text.includes('We have not received'), text);

    const refusals = connector
      .logs()
      .split('\n')
      .filter((line) => line.includes('"callback refused"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    t.is(refusals.length, 1);
    t.like(refusals[0], {
      reason: 'private_store_url',
      field: 'store_base_url',
      consumerKey: createHash('sha256').update(integration.consumerKey).digest('hex').slice(0, 12),
    });
    const view = mock.admin.get(integration.id);
    for (const secret of [view.consumerKey, view.consumerSecret, view.tokens[0]!.verifier]) {
      t.false(connector.logs().includes(secret), 'no key, secret or verifier in the logs');
    }

    // Remembered for 15 minutes: then the popup no longer claims to know about it.
    connector.clock.advance(15 * 60_000 + 1_000);
    const later = await new Browser().get(popupUrl!);
    t.is(later.status, 404);
    t.true(decodeHtml(later.text).includes("We have not received Magento's callback"), later.text);
  });

  test('a refusal after a binding was recorded wins over it; a newer accepted callback wins over the refusal', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector);
    await waitForState(connector, consumerKey, 'request_token');
    const fields = { oauth_consumer_key: consumerKey, oauth_consumer_secret: 'x'.repeat(32), oauth_verifier: 'y'.repeat(32) };
    const refused = await fetch((await activationUrlsFor(connector)).callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, store_base_url: 'ftp://shop.example.com/' }).toString(),
    });
    t.is(refused.status, 400);
    connector.clock.advance(1_000); // the refusal is newer than the binding's callback
    const page = await new Browser().get(popupUrl);
    t.is(page.status, 409);
    t.true(decodeHtml(page.text).includes(REFUSAL_FIX_TEXT.invalid_store_url), page.text);

    // Activate again: the accepted callback is newer than the refusal, and the popup shows the sign-in forms.
    connector.clock.advance(1_000);
    await mock.admin.activate((await mock.admin.list())[0]!.id);
    const again = await new Browser().get(popupUrl);
    t.is(again.status, 200, again.text.slice(0, 300));
  });

  test('Reauthorize abandoned after its request token, then our next call finds the token dead: every fix says Activate', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const browser = new Browser();
    const { integrationId, consumerKey, binding: before } = await activateAndSignUp(mock, connector, 'owner@example.com', 'CRM', browser);

    // Reauthorize: Magento deletes the access token and shows the integration inactive; the merchant closes the popup.
    await mock.admin.reauthorize(integrationId);
    await waitFor('the reauthorization request token', async () => (await connector.binding(consumerKey))?.requestToken ?? undefined);
    t.is(mock.admin.get(integrationId).status, 'inactive');

    const store = connector.running.services.client(before.accountId!).forStore(before.id);
    await t.throwsAsync(store.get('V1/products/24-MB01'), { instanceOf: MagentoApiError });
    const revoked = (await connector.binding(consumerKey))!;
    t.is(revoked.state, 'revoked');
    t.is(revoked.fix, 'activate_again', 'Magento shows Activate for an inactive integration');

    const account = decodeHtml((await browser.get(`${connector.url}/account`)).text);
    t.true(account.includes(FIX_TEXT.activate_again), account);
    t.false(account.includes('click Reauthorize'), account);
    const err = await t.throwsAsync(store.get('V1/products/24-MB01'));
    t.regex(err!.message, /must click Activate/);

    // Activate, as Magento offers: the kept request token and its verifier connect again (docs/magento-protocol.md §4a).
    const activated = await mock.admin.activate(integrationId);
    const again = await finishInPopup(browser, connector, activated.popupUrl!, 'login', 'owner@example.com', PASSWORD);
    t.is(again.status, 302, again.text.slice(0, 300));
    t.is((await connector.binding(consumerKey))?.state, 'active');
    t.is(mock.admin.get(integrationId).status, 'active');
  });
});
