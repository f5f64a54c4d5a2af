// Sign-in with the CRM's OpenID provider: a real oidc-provider in this process over real HTTP, the mock store, the
// connector. The popup's round trip (to the provider and back, Connect, back to Magento's success_call_back), the
// account page's, linking by (issuer, sub) and verified email, and every way the return can be wrong.
import type { ExecutionContext } from 'ava';
import { forEachBackend } from '../helpers/db.js';
import {
  Browser,
  createAndActivate,
  decodeHtml,
  hiddenFields,
  popupBase,
  startConnector,
  startMockStore,
  waitForState,
  type Connector,
  type PageResponse,
} from '../helpers/connector.js';
import { signInAtProvider, startProvider, type TestUser } from '../helpers/oidc.js';

const ALICE: TestUser = { login: 'alice-sub-1', email: 'alice@example.com', email_verified: true, name: 'Alice' };
const MALLORY: TestUser = { login: 'mallory-sub-9', email: 'owner@example.com', email_verified: false };
const NOBODY: TestUser = { login: 'no-email-sub' };

async function setUp(t: ExecutionContext, backend: Parameters<typeof startConnector>[0], env: Record<string, string> = {}, openSignup = false) {
  const idp = await startProvider(t, [ALICE, MALLORY, NOBODY]);
  const mock = await startMockStore(t);
  const connector = await startConnector(backend, t, { env: idp.connectorEnv(env), openSignup });
  await idp.register(`${connector.url}/oidc/callback`);
  return { idp, mock, connector };
}

/**
 * Opens the popup and clicks "Sign in with Acme CRM": the connector's answer (a redirect to the provider). The
 * button posts under the popup's own path; in the shared popup the store's URL is confirmed first (its checkbox).
 */
async function startInPopup(browser: Browser, connector: Connector, popupUrl: string, confirm = true): Promise<PageResponse> {
  const page = await browser.get(popupUrl);
  if (page.status !== 200) throw new Error(`popup answered ${page.status}`);
  if (!page.text.includes('Sign in with Acme CRM')) throw new Error('the popup offers no OpenID sign-in');
  const base = popupBase(popupUrl);
  if (!page.text.includes(`action="${base}/oidc"`)) throw new Error(`the button does not post under ${base}`);
  const shared = base === '/magento/identity';
  return browser.post(`${connector.url}${base}/oidc`, { ...hiddenFields(page.text), ...(shared && confirm ? { confirm_store: 'yes' } : {}) });
}

async function startOnAccountPage(browser: Browser, connector: Connector): Promise<PageResponse> {
  const page = await browser.get(`${connector.url}/account/login`);
  return browser.post(`${connector.url}/account/oidc`, hiddenFields(page.text));
}

async function accounts(connector: Connector, email: string) {
  return connector.running.services.storage.accounts.byEmail(email);
}

forEachBackend((backend, test) => {
  test('OPEN_SIGNUP_ACTIVATION popup: Sign in with the provider, back in the popup, Connect, then Magento\'s success_call_back; the account is created and linked', async (t) => {
    const { idp, mock, connector } = await setUp(t, backend, {}, true);
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector, 'CRM', 'shared');
    await waitForState(connector, consumerKey, 'request_token');
    const browser = new Browser();
    const start = await startInPopup(browser, connector, popupUrl);
    t.is(start.status, 303);
    const toProvider = new URL(start.location!);
    t.is(toProvider.origin, idp.issuer);
    t.is(toProvider.searchParams.get('code_challenge_method'), 'S256');
    t.truthy(toProvider.searchParams.get('state'));
    t.truthy(toProvider.searchParams.get('nonce'));
    t.is(toProvider.searchParams.get('redirect_uri'), `${connector.url}/oidc/callback`);
    t.falsy(toProvider.searchParams.get('oauth_consumer_key'), 'the popup\'s fields stay in the sealed cookie');
    t.truthy(browser.cookies.get('mc_oidc'));

    const callback = await signInAtProvider(browser, start, connector.url, ALICE.login);
    const done = await browser.get(callback.href);
    t.is(done.status, 302, done.text.slice(0, 400));
    t.is(done.location, mock.successCallbackUrl);
    t.falsy(browser.cookies.get('mc_oidc'), 'the flow cookie is used once');
    t.truthy(browser.cookies.get('mc_session'));

    const account = await accounts(connector, 'alice@example.com');
    t.truthy(account);
    const binding = await connector.binding(consumerKey);
    t.is(binding?.state, 'active');
    t.is(binding?.accountId, account!.id);
    t.is(mock.admin.get(integrationId).status, 'active');
    const identities = await connector.running.services.storage.identities.listByAccount(account!.id);
    t.deepEqual(identities.map((i) => [i.issuer, i.subject]), [[idp.issuer, ALICE.login]]);

    // The account page knows the merchant now.
    const page = await browser.get(`${connector.url}/account`);
    t.is(page.status, 200);
    t.true(page.text.includes(mock.baseUrl));
  });

  test('account page: Sign in with the provider lands on the account page; a second sign-in finds the same account by sub', async (t) => {
    const { idp, connector } = await setUp(t, backend);
    const first = new Browser();
    const done = await first.get((await signInAtProvider(first, await startOnAccountPage(first, connector), connector.url, ALICE.login)).href);
    t.is(done.status, 302, done.text.slice(0, 300));
    t.is(done.location, '/account');
    const accountPage = await first.get(`${connector.url}/account`);
    t.is(accountPage.status, 200);
    t.regex(accountPage.text, /You sign in with Acme CRM and have no password here/);
    t.notRegex(accountPage.text, /name="current"/);
    const account = await accounts(connector, 'alice@example.com');

    // A second sign-in (new browser) finds the same account by (issuer, sub), even after the email changed there.
    const again = new Browser();
    idp.users.set(ALICE.login, { ...ALICE, email: 'alice.new@example.com' });
    const res = await again.get((await signInAtProvider(again, await startOnAccountPage(again, connector), connector.url, ALICE.login)).href);
    t.is(res.location, '/account');
    t.is(await accounts(connector, 'alice.new@example.com'), null);
    t.is((await connector.running.services.storage.identities.listByAccount(account!.id)).length, 1);
    t.is((await connector.running.services.accounts.sessionAccount(again.cookies.get('mc_session')))?.id, account!.id);
  });

  test('first sign-in links to the existing account with the same verified email; a store already there is visible', async (t) => {
    const { connector } = await setUp(t, backend);
    const existing = await connector.running.services.accounts.signUp('Alice@Example.com', 'correct horse battery');
    const browser = new Browser();
    const res = await browser.get((await signInAtProvider(browser, await startOnAccountPage(browser, connector), connector.url, ALICE.login)).href);
    t.is(res.location, '/account');
    const ids = await connector.running.services.storage.identities.listByAccount(existing.id);
    t.is(ids.length, 1);
    t.is(ids[0]!.subject, ALICE.login);
    // The password still works: linking does not take it away.
    await t.notThrowsAsync(connector.running.services.accounts.signIn('alice@example.com', 'correct horse battery', '127.0.0.9'));
  });

  test('email_verified false never links to an existing account: a page says so, no identity, no session', async (t) => {
    const { connector } = await setUp(t, backend);
    const owner = await connector.running.services.accounts.signUp('owner@example.com', 'correct horse battery');
    const browser = new Browser();
    const res = await browser.get((await signInAtProvider(browser, await startOnAccountPage(browser, connector), connector.url, MALLORY.login)).href);
    t.is(res.status, 403);
    t.regex(res.headers.get('content-type') ?? '', /text\/html/);
    t.regex(res.text, /not verified|does not confirm/);
    t.falsy(browser.cookies.get('mc_session'));
    t.deepEqual(await connector.running.services.storage.identities.listByAccount(owner.id), []);
    t.is(await connector.running.services.storage.identities.find(connector.config.identity.oidc!.issuer, MALLORY.login), null);
  });

  test('no email claim: refused with a page that says what is missing', async (t) => {
    const { connector } = await setUp(t, backend);
    const browser = new Browser();
    const res = await browser.get((await signInAtProvider(browser, await startOnAccountPage(browser, connector), connector.url, NOBODY.login)).href);
    t.is(res.status, 400);
    t.regex(res.text, /email/);
    t.falsy(browser.cookies.get('mc_session'));
  });

  test('wrong state, a replayed callback and a callback opened in another browser are refused with a page; nothing is written', async (t) => {
    // The shared popup (sign-up there), so that B's own callback at the end may create Alice's account.
    const { mock, connector } = await setUp(t, backend, {}, true);
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector, 'CRM', 'shared');
    await waitForState(connector, consumerKey, 'request_token');

    // Wrong state.
    const a = new Browser();
    const callbackA = await signInAtProvider(a, await startInPopup(a, connector, popupUrl), connector.url, ALICE.login);
    const tampered = new URL(callbackA);
    tampered.searchParams.set('state', 'not-the-state');
    const wrong = await a.get(tampered.href);
    t.is(wrong.status, 400);
    t.regex(wrong.headers.get('content-type') ?? '', /text\/html/);
    t.regex(wrong.text, /does not belong to the sign-in this browser started/);
    t.falsy(a.cookies.get('mc_session'));
    // ...and the real one cannot be used after that: the flow cookie was spent.
    const late = await a.get(callbackA.href);
    t.is(late.status, 400);
    t.regex(late.text, /cannot be finished here/);

    // Foreign: B's callback opened in C (no flow cookie), and in A (A's own flow is another one).
    const b = new Browser();
    const callbackB = await signInAtProvider(b, await startInPopup(b, connector, popupUrl), connector.url, ALICE.login);
    const c = new Browser();
    const foreign = await c.get(callbackB.href);
    t.is(foreign.status, 400);
    t.regex(foreign.text, /cannot be finished here/);
    t.falsy(c.cookies.get('mc_session'));
    await startInPopup(a, connector, popupUrl); // A starts a flow of its own
    const crossed = await a.get(callbackB.href);
    t.is(crossed.status, 400);
    t.regex(crossed.text, /does not belong/);
    t.falsy(a.cookies.get('mc_session'));

    t.is(await accounts(connector, 'alice@example.com'), null, 'no account was created');
    t.is((await connector.binding(consumerKey))?.state, 'request_token', 'the activation is untouched');

    // B's own callback still works once; replayed, it is refused.
    const ok = await b.get(callbackB.href);
    t.is(ok.status, 302, ok.text.slice(0, 300));
    t.is(ok.location, mock.successCallbackUrl);
    const replay = await b.get(callbackB.href);
    t.is(replay.status, 400);
    t.regex(replay.text, /cannot be finished here/);
  });

  test("issue 13, an account's own popup: a member signs in with the provider (linked by verified email) and connects; the button posts under the popup's path", async (t) => {
    const { mock, connector } = await setUp(t, backend);
    const alice = await connector.running.services.accounts.signUp('alice@example.com', 'correct horse battery');
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector, 'CRM', { email: 'alice@example.com', password: 'correct horse battery' });
    t.is((await waitForState(connector, consumerKey, 'request_token')).accountId, alice.id);
    const browser = new Browser();
    const done = await browser.get((await signInAtProvider(browser, await startInPopup(browser, connector, popupUrl), connector.url, ALICE.login)).href);
    t.is(done.status, 302, done.text.slice(0, 400));
    t.is(done.location, mock.successCallbackUrl);
    const binding = await connector.binding(consumerKey);
    t.is(binding?.state, 'active');
    t.is(binding?.accountId, alice.id);
    t.is(mock.admin.get(integrationId).status, 'active');
  });

  test("issue 13, an account's own popup: signing in with the provider as a non-member connects nothing and creates no account", async (t) => {
    const { mock, connector } = await setUp(t, backend);
    // The link belongs to MERCHANT's account; Alice has no account here at first, then one of her own.
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);
    const waiting = await waitForState(connector, consumerKey, 'request_token');
    const stranger = new Browser();
    const refused = await stranger.get((await signInAtProvider(stranger, await startInPopup(stranger, connector, popupUrl), connector.url, ALICE.login)).href);
    t.is(refused.status, 403, refused.text.slice(0, 300));
    t.regex(refused.headers.get('content-type') ?? '', /text\/html/);
    t.regex(refused.text, /No account here belongs to your Acme CRM sign-in/);
    t.is(await accounts(connector, 'alice@example.com'), null, 'no account created: sign-up is not offered there');
    t.falsy(stranger.cookies.get('mc_session'));

    await connector.running.services.accounts.signUp('alice@example.com', 'correct horse battery');
    const member = new Browser();
    const other = await member.get((await signInAtProvider(member, await startInPopup(member, connector, popupUrl), connector.url, ALICE.login)).href);
    t.is(other.status, 403, other.text.slice(0, 300));
    t.regex(other.text, /belongs to another account/);
    t.is(other.location, null, 'no redirect to success_call_back');
    t.deepEqual(await connector.binding(consumerKey), waiting, 'the binding is untouched');
    t.is(mock.admin.get(integrationId).status, 'inactive');
  });

  test('OPEN_SIGNUP_ACTIVATION: the shared popup\'s provider button binds a store only once its URL is confirmed', async (t) => {
    const { mock, connector } = await setUp(t, backend, {}, true);
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector, 'CRM', 'shared');
    await waitForState(connector, consumerKey, 'request_token');
    const browser = new Browser();
    const page = await browser.get(popupUrl);
    t.regex(page.text, /<form class="panel oidc"[^]*?name="confirm_store" type="checkbox" value="yes" required/);
    const unconfirmed = await startInPopup(browser, connector, popupUrl, false);
    t.is(unconfirmed.status, 400);
    t.regex(decodeHtml(unconfirmed.text), /Confirm that .* is your store/);
    t.falsy(browser.cookies.get('mc_oidc'), 'no round trip to the provider started');
    t.is((await connector.binding(consumerKey))?.accountId, null);
  });

  test('the merchant cancels at the provider (error=access_denied): a page says so, with a way back; nothing is written', async (t) => {
    const { mock, connector } = await setUp(t, backend);
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector);
    await waitForState(connector, consumerKey, 'request_token');
    const browser = new Browser();
    const callback = await signInAtProvider(browser, await startInPopup(browser, connector, popupUrl), connector.url, ALICE.login);
    const cancelled = new URL(callback);
    cancelled.searchParams.delete('code');
    cancelled.searchParams.set('error', 'access_denied');
    const res = await browser.get(cancelled.href);
    t.is(res.status, 400);
    t.regex(res.text, /cancelled or refused/);
    t.regex(res.text, /href="\/magento\/identity\/[A-Za-z0-9_-]{43}\?oauth_consumer_key=/, "back to the account's own popup");
    t.regex(res.text, /data-close-window/, 'begun in the popup, the page is the popup\'s');
    t.falsy(browser.cookies.get('mc_session'));
    t.is((await connector.binding(consumerKey))?.state, 'request_token');
  });

  test('a reused code (the callback replayed with a copy of its flow cookie) and an expired code: the provider refuses, a page says so, no session', async (t) => {
    const { idp, connector } = await setUp(t, backend);
    // Reused: the callback replayed together with a copy of its flow cookie (a copied cookie, a double submit).
    const a = new Browser();
    const callback = await signInAtProvider(a, await startOnAccountPage(a, connector), connector.url, ALICE.login);
    const flowCookie = a.cookies.get('mc_oidc')!;
    t.is((await a.get(callback.href)).status, 302);
    const thief = new Browser();
    thief.cookies.set('mc_oidc', flowCookie);
    thief.cookies.set('mc_csrf', a.cookies.get('mc_csrf')!);
    const reused = await thief.get(callback.href);
    t.is(reused.status, 400);
    t.regex(reused.text, /refused the sign-in \(invalid_grant/);
    t.falsy(thief.cookies.get('mc_session'));

    // Expired: codes live one second.
    idp.codeTtlSeconds = 1;
    const b = new Browser();
    const late = await signInAtProvider(b, await startOnAccountPage(b, connector), connector.url, ALICE.login);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const expired = await b.get(late.href);
    t.is(expired.status, 400);
    t.regex(expired.text, /refused the sign-in \(invalid_grant/);
    t.falsy(b.cookies.get('mc_session'));
  });

  for (const [what, tamper, pattern] of [
    ['an ID token for another audience', (c: Record<string, unknown>) => ({ ...c, aud: 'another-client' }), /aud/],
    ['an ID token from another issuer', (c: Record<string, unknown>) => ({ ...c, iss: 'https://evil.example.com' }), /iss/],
    ['an expired ID token', (c: Record<string, unknown>) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 }), /exp|timestamp|expired/i],
    ['an ID token with another nonce', (c: Record<string, unknown>) => ({ ...c, nonce: 'a-replayed-nonce' }), /nonce/],
  ] as const) {
    test(`${what} is refused with a page; no account, no session`, async (t) => {
      const { idp, connector } = await setUp(t, backend);
      idp.rewriteIdToken = tamper;
      const browser = new Browser();
      const res = await browser.get((await signInAtProvider(browser, await startOnAccountPage(browser, connector), connector.url, ALICE.login)).href);
      t.is(res.status, 400, res.text.slice(0, 300));
      t.regex(res.text, /did not pass our checks/);
      t.regex(res.text, pattern);
      t.falsy(browser.cookies.get('mc_session'));
      t.is(await accounts(connector, 'alice@example.com'), null);
    });
  }

  test('an ID token signed with a key not in the provider\'s JWKS is refused', async (t) => {
    const { idp, connector } = await setUp(t, backend);
    idp.signWithForeignKey = true;
    const browser = new Browser();
    const res = await browser.get((await signInAtProvider(browser, await startOnAccountPage(browser, connector), connector.url, ALICE.login)).href);
    t.is(res.status, 400, res.text.slice(0, 300));
    t.regex(res.text, /did not pass our checks/);
    t.falsy(browser.cookies.get('mc_session'));
    t.is(await accounts(connector, 'alice@example.com'), null);
  });

  test('provider down: at the start and on the return, a clear page; no flow cookie, no session, the activation untouched', async (t) => {
    const { idp, mock, connector } = await setUp(t, backend);
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector);
    await waitForState(connector, consumerKey, 'request_token');
    // Down on the return: discovery was done, the token endpoint is gone.
    const a = new Browser();
    const callback = await signInAtProvider(a, await startInPopup(a, connector, popupUrl), connector.url, ALICE.login);
    await idp.down();
    const back = await a.get(callback.href);
    t.is(back.status, 502);
    t.regex(back.headers.get('content-type') ?? '', /text\/html/);
    t.regex(back.text, /could not reach Acme CRM/);
    t.regex(back.text, /Back to the sign-in/);
    t.falsy(a.cookies.get('mc_session'));
    t.is((await connector.binding(consumerKey))?.state, 'request_token');
    t.is(await accounts(connector, 'alice@example.com'), null);

    // Down at the start, with nothing discovered yet (a fresh connector).
    const other = await startConnector(backend, t, { env: idp.connectorEnv() });
    const b = new Browser();
    const page = await b.get(`${other.url}/account/login`);
    const start = await b.post(`${other.url}/account/oidc`, hiddenFields(page.text));
    t.is(start.status, 502);
    t.regex(start.text, /could not reach Acme CRM/);
    t.falsy(b.cookies.get('mc_oidc'));
  });
});
