// The connector's logs (debug level) after a whole run never contain a secret it handled: consumer secret,
// verifier, request and access tokens with their secrets, API key, password, session cookie.
import { callApi, startCapturingMockStore } from '../helpers/activated.js';
import { Browser, createAndActivate, finishInPopup, hiddenFields, startConnector, waitForState } from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';

forEachBackend((backend, test) => {
  test('a full run (activation, account page, proxied calls, failures, revocation) logs no secret', async (t) => {
    const mock = await startCapturingMockStore(t);
    const connector = await startConnector(backend, t);
    const password = 'Sesame opens 4 me';
    const email = 'logs@example.com';

    // The merchant's account exists and the integration carries its own URLs (issue 13).
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector, 'CRM', { email, password });
    const integration = mock.admin.get(integrationId);
    const held = await waitForState(connector, consumerKey, 'request_token');
    const browser = new Browser();
    // A wrong password first (a failed sign-in is logged), then the sign-in.
    const wrong = await finishInPopup(new Browser(), connector, popupUrl, 'login', email, 'not the password at all');
    t.not(wrong.status, 302);
    const done = await finishInPopup(browser, connector, popupUrl, 'login', email, password);
    t.is(done.status, 302, done.text.slice(0, 300));
    const active = await waitForState(connector, consumerKey, 'active');

    const page = await browser.get(`${connector.url}/account`);
    await browser.post(`${connector.url}/account/api-keys`, { csrf: hiddenFields(page.text).csrf!, name: 'logs' });
    const created = await browser.get(`${connector.url}/account`); // the new key is shown after the redirect
    const apiKey = /<code id="new-key">([^<]+)<\/code>/.exec(created.text)![1]!;
    const rest = `${connector.url}/api/stores/${active.id}/rest/`;

    const q = 'searchCriteria[filter_groups][0][filters][0][field]=email&searchCriteria[filter_groups][0][filters][0][value]=jdoe%40example.com';
    t.is((await callApi(`${rest}V1/customers/search?${q}`, 'GET', apiKey)).status, 200);
    const body = JSON.stringify({ product: { sku: 'LOG-1', name: 'Logged?', price: 1 } });
    t.is((await callApi(`${rest}V1/products`, 'POST', apiKey, { body, headers: { 'content-type': 'application/json' } })).status, 200);
    t.is((await callApi(`${rest}V1/customers/999`, 'GET', apiKey)).status, 404);
    t.is((await callApi(`${rest}V1/products?a=1&a=2`, 'GET', apiKey)).status, 400);
    t.is((await callApi(`${rest}V1/products/24-MB01`, 'GET', `${apiKey}wrong`)).status, 401);
    mock.knobs.addFault({ kind: 'fail', pathPrefix: '/rest/', count: 1, status: 503 });
    t.is((await callApi(`${rest}V1/products/24-MB01`, 'GET', apiKey)).status, 200);
    mock.admin.delete(integrationId);
    t.is((await callApi(`${rest}V1/products/24-MB01`, 'GET', apiKey)).status, 401);
    t.is((await callApi(`${rest}V1/products/24-MB01`, 'GET', apiKey)).status, 409);

    const logs = connector.logs();
    t.true(logs.split('\n').length > 20, 'the run was logged');
    t.regex(logs, /store revoked/);
    const secrets: Record<string, string> = {
      'consumer secret': integration.consumerSecret,
      verifier: integration.tokens[0]!.verifier,
      'request token': held.requestToken!.token,
      'request token secret': held.requestToken!.secret,
      'access token': active.accessToken!.token,
      'access token secret': active.accessToken!.secret,
      'API key': apiKey,
      'API key (as sent wrong)': `${apiKey}wrong`,
      password,
      'password, form-encoded': 'Sesame+opens+4+me',
      'wrong password': 'not the password at all',
      'session cookie': browser.cookies.get('mc_session')!,
      'CSRF seed': browser.cookies.get('mc_csrf')!,
      // The account's activation token, in the path of its two URLs (issue 13): it takes stores into the account.
      'activation token': new URL(integration.callbackUrl).pathname.split('/').at(-1)!,
    };
    for (const [what, secret] of Object.entries(secrets)) {
      t.truthy(secret, `${what} was captured`);
      t.false(logs.includes(secret), `the logs contain the ${what}`);
    }
    t.false(logs.includes('jdoe%40example.com') || logs.includes('jdoe@example.com'), 'query strings are not logged');
    t.false(/oauth_signature|oauth_nonce/.test(logs), 'no Authorization header');
    // The consumer key is logged only as a short hash, at every level (issue 13).
    t.false(logs.includes(integration.consumerKey), 'the logs contain the consumer key');
  });
});
