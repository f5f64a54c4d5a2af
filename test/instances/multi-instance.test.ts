// Two connector processes on one database: the callback reaches instance A, the merchant's popup reaches instance B.
import { forEachBackend, freshDatabase } from '../helpers/db.js';
import { Browser, hiddenFields, startMockStore, testSecretsKey, waitFor } from '../helpers/connector.js';
import { sharedStorage, spawnInstance, type InstanceOptions } from '../helpers/instances.js';
import type { Child } from '../../scripts/spawn-instance.js';
import { accountActivationToken, urlsFor } from '../../src/activation/account-urls.js';
import { systemClock } from '../../src/clock.js';
import type { ExecutionContext } from 'ava';
import type { MockStore } from '../../src/mock-store/app.js';

// A dead instance's claim runs out quickly here (it must outlast one token call, tokenCallTimeoutMs).
const FAST_TAKEOVER = { durations: { stepLeaseMs: 3_000, requestTokenWaitMs: 10_000 }, limits: { tokenCallTimeoutMs: 2_000 } };

const requestTokenCalls = (mock: MockStore) => mock.knobs.requests().filter((r) => r.path.endsWith('/oauth/token/request'));

const PASSWORD = 'long enough password';

/**
 * The merchant's account (made in the shared database, as the account page would) and its own two URLs, the
 * Callback URL on instance A and the Identity Link URL on instance B (issue 13: one token, any instance).
 */
async function merchantUrls(t: ExecutionContext, options: InstanceOptions, email: string, a: Child, b: Child) {
  const { storage, accounts } = await sharedStorage(t, options);
  const account = await accounts.signUp(email, PASSWORD, '127.0.0.1');
  const token = await accountActivationToken({ storage, clock: systemClock }, account.id);
  return { accountId: account.id, callbackUrl: urlsFor(token, a.url).callbackUrl, identityLinkUrl: urlsFor(token, b.url).identityLinkUrl };
}

/** Signs in in the popup (B's, by its URL), as the account's member: no sign-up in an account's own popup. */
async function signInInPopup(popupUrl: string, email: string) {
  const browser = new Browser();
  const page = await browser.get(popupUrl);
  const url = new URL(popupUrl);
  return browser.post(`${url.origin}${url.pathname}/login`, { ...hiddenFields(page.text), email, password: PASSWORD });
}

/** The shared popup (OPEN_SIGNUP_ACTIVATION): sign-up there, the store's URL confirmed. */
async function signUpInSharedPopup(popupUrl: string, instanceUrl: string, email: string) {
  const browser = new Browser();
  const page = await browser.get(popupUrl);
  return browser.post(`${instanceUrl}/magento/identity/signup`, { ...hiddenFields(page.text), confirm_store: 'yes', email, password: PASSWORD });
}

forEachBackend((backend, test) => {
  test.serial('callback on A, popup on B: one request-token call, and signed calls work through both', async (t) => {
    const { url: databaseUrl } = await freshDatabase(backend);
    const options = { databaseUrl, secretsKey: testSecretsKey() };
    const [a, b] = await Promise.all([spawnInstance(t, options), spawnInstance(t, options)]);
    const mock = await startMockStore(t);
    const urls = await merchantUrls(t, options, 'two@example.com', a, b);
    const integration = mock.admin.create({ name: 'CRM', callbackUrl: urls.callbackUrl, identityLinkUrl: urls.identityLinkUrl });
    const { popupUrl } = await mock.admin.activate(integration.id);
    t.truthy(popupUrl);

    const done = await signInInPopup(popupUrl!, 'two@example.com');
    t.is(done.status, 302, done.text.slice(0, 300));
    t.is(done.location, mock.successCallbackUrl);
    t.is(mock.admin.get(integration.id).status, 'active');
    t.is(requestTokenCalls(mock).length, 1);

    const { storage, accounts } = await sharedStorage(t, options);
    const binding = (await storage.bindings.byConsumerKey(integration.consumerKey))!;
    t.is(binding.state, 'active');
    t.is(binding.accountId, urls.accountId);
    const { key } = await accounts.createApiKey(binding.accountId!);
    for (const instance of [a, b]) {
      const res = await fetch(`${instance.url}/api/stores/${binding.id}/rest/V1/products/24-MB01`, { headers: { authorization: `Bearer ${key}` } });
      t.is(res.status, 200, instance.url);
      t.is(((await res.json()) as { sku: string }).sku, '24-MB01');
    }
  });

  test.serial('OPEN_SIGNUP_ACTIVATION: shared callback on A, sign-up in the shared popup on B', async (t) => {
    const { url: databaseUrl } = await freshDatabase(backend);
    const options = { databaseUrl, secretsKey: testSecretsKey(), openSignup: true };
    const [a, b] = await Promise.all([spawnInstance(t, options), spawnInstance(t, options)]);
    const mock = await startMockStore(t);
    const integration = mock.admin.create({ name: 'CRM', callbackUrl: `${a.url}/magento/callback`, identityLinkUrl: `${b.url}/magento/identity` });
    const { popupUrl } = await mock.admin.activate(integration.id);
    const done = await signUpInSharedPopup(popupUrl!, b.url, 'open@example.com');
    t.is(done.status, 302, done.text.slice(0, 300));
    t.is(mock.admin.get(integration.id).status, 'active');
    t.is(requestTokenCalls(mock).length, 1);
  });

  test.serial('A dies while backing off after a failed request-token call: the merchant still finishes through B', async (t) => {
    const { url: databaseUrl } = await freshDatabase(backend);
    const options = { databaseUrl, secretsKey: testSecretsKey(), ...FAST_TAKEOVER, durations: { ...FAST_TAKEOVER.durations, retryBaseDelayMs: 1_500, retryMaxDelayMs: 1_500 } };
    const [a, b] = await Promise.all([spawnInstance(t, options), spawnInstance(t, options)]);
    const mock = await startMockStore(t);
    mock.knobs.addFault({ kind: 'fail', pathPrefix: '/oauth/token/request', status: 503, count: 1 });
    const integration = mock.admin.create({ name: 'CRM', ...(await merchantUrls(t, options, 'survivor@example.com', a, b)) });
    const { popupUrl } = await mock.admin.activate(integration.id);
    await waitFor('the failed first attempt', () => requestTokenCalls(mock).length === 1);
    a.process.kill('SIGKILL');

    const done = await signInInPopup(popupUrl!, 'survivor@example.com');
    t.is(done.status, 302, done.text.slice(0, 300));
    t.is(mock.admin.get(integration.id).status, 'active');
    t.deepEqual(requestTokenCalls(mock).map((r) => r.status), [503, 200]);
  });

  test.serial('A dies during its request-token call that the store holds: B takes over when the claim runs out, the merchant connects', async (t) => {
    const { url: databaseUrl } = await freshDatabase(backend);
    const options = { databaseUrl, secretsKey: testSecretsKey(), ...FAST_TAKEOVER };
    const [a, b] = await Promise.all([spawnInstance(t, options), spawnInstance(t, options)]);
    const mock = await startMockStore(t, { onError: () => {} });
    // The store sits on A's call far longer than A's claim (3 s) lasts: B's request-token call is handled first.
    // (Whether Magento acted on A's call before A died is the next test's case; here it acts only afterwards.)
    mock.knobs.addFault({ kind: 'slow', pathPrefix: '/oauth/token/request', delayMs: 15_000, count: 1 });
    const integration = mock.admin.create({ name: 'CRM', ...(await merchantUrls(t, options, 'orphan@example.com', a, b)) });
    const { popupUrl } = await mock.admin.activate(integration.id);
    const { storage } = await sharedStorage(t, options);
    await waitFor('A to claim the request-token step', async () => (await storage.bindings.byConsumerKey(integration.consumerKey))?.step === 'request_token');
    await waitFor("A's call to reach the store", () => mock.knobs.listFaults().length === 0);
    a.process.kill('SIGKILL');

    const page = await signInInPopup(popupUrl!, 'orphan@example.com');
    t.is(page.status, 302, page.text.slice(0, 300));
    const binding = (await storage.bindings.byConsumerKey(integration.consumerKey))!;
    t.is(binding.state, 'active');
    t.is(mock.admin.get(integration.id).status, 'active');
    t.truthy(binding.accessToken, 'B holds the access token');
  });

  test.serial('Magento answered A, but the answer died with A: B tells the merchant to re-create the integration', async (t) => {
    const { url: databaseUrl } = await freshDatabase(backend);
    const options = { databaseUrl, secretsKey: testSecretsKey(), ...FAST_TAKEOVER, durations: { ...FAST_TAKEOVER.durations, retryBaseDelayMs: 1_500, retryMaxDelayMs: 1_500 } };
    const [a, b] = await Promise.all([spawnInstance(t, options), spawnInstance(t, options)]);
    const mock = await startMockStore(t);
    // Magento issues the request token, then the connection is cut before the answer reaches A.
    mock.knobs.addFault({ kind: 'drop', phase: 'after', pathPrefix: '/oauth/token/request', count: 1 });
    const integration = mock.admin.create({ name: 'CRM', ...(await merchantUrls(t, options, 'orphan@example.com', a, b)) });
    const { popupUrl } = await mock.admin.activate(integration.id);
    await waitFor('Magento to act on the call', () => mock.admin.get(integration.id).tokens.some((row) => row.type === 'request'));
    a.process.kill('SIGKILL');

    const page = await signInInPopup(popupUrl!, 'orphan@example.com');
    const { storage } = await sharedStorage(t, options);
    const binding = (await storage.bindings.byConsumerKey(integration.consumerKey))!;
    // Magento converted its only verifier row and the request token is lost: only deleting and re-creating the
    // integration (or Magento's two-hour cleanup) repairs it (docs/magento-protocol.md §4a).
    t.is(binding.state, 'failed');
    t.is(binding.fix, 'recreate_integration');
    t.is(binding.verifier, null);
    t.is(binding.requestToken, null);
    t.is(page.status, 409);
    t.regex(page.text, /delete this integration, create it again/);
    t.is(mock.admin.get(integration.id).status, 'inactive');
  });
});
