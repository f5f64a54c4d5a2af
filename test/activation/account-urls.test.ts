// Issue 13: an activation belongs to an account from its first request. Each finding of the review reproduced and
// shown refused, with the product's defaults (OPEN_SIGNUP_ACTIVATION off) unless a test says otherwise.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import { callApi } from '../helpers/activated.js';
import {
  Browser,
  createAndActivate,
  decodeHtml,
  ensureAccount,
  finishInPopup,
  hiddenFields,
  PASSWORD,
  startConnector,
  startMockStore,
  testSecretsKey,
  waitFor,
  waitForState,
  type Connector,
} from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';

const credential = () => randomBytes(16).toString('hex');

async function post(url: string, fields: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: (() => { try { return JSON.parse(text) as { error?: { code: string; message: string } }; } catch { return undefined; } })() };
}

async function urlsOf(connector: Connector, email: string) {
  const accountId = await ensureAccount(connector, { email, password: PASSWORD });
  return { accountId, ...(await connector.running.services.activation.activationUrls(accountId, connector.url)) };
}

async function signedIn(connector: Connector, email: string): Promise<Browser> {
  const browser = new Browser();
  const page = await browser.get(`${connector.url}/account/login`);
  const res = await browser.post(`${connector.url}/account/login`, { ...hiddenFields(page.text), email, password: PASSWORD });
  if (res.status !== 302) throw new Error(`sign-in answered ${res.status}`);
  return browser;
}

/** A "store" of our own: answers the request-token call with `status` and `body`. */
async function fakeStore(t: ExecutionContext, status: number, body: string): Promise<string> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

forEachBackend((backend, test) => {
  test('shared URLs are off by default: the callback answers 404 JSON, the popup a 404 page, both naming the account URLs', async (t) => {
    const connector = await startConnector(backend, t, { openSignup: false });
    const callback = await post(`${connector.url}/magento/callback`, { oauth_consumer_key: credential(), oauth_consumer_secret: credential(), oauth_verifier: credential(), store_base_url: 'http://127.0.0.1:1/' });
    t.is(callback.status, 404);
    t.is(callback.json?.error?.code, 'shared_activation_disabled');
    t.regex(callback.json!.error!.message, /account page/);
    const popup = await new Browser().get(`${connector.url}/magento/identity?oauth_consumer_key=${credential()}`);
    t.is(popup.status, 404);
    t.regex(popup.headers.get('content-type') ?? '', /^text\/html/);
    t.regex(decodeHtml(popup.text), /Use your account's own activation URLs/);
    t.is((await connector.running.services.storage.bindings.list()).length, 0);
    // A made-up token is a 404 too, and nothing is stored.
    const guessed = await post(`${connector.url}/magento/callback/${'A'.repeat(43)}`, { oauth_consumer_key: credential(), oauth_consumer_secret: credential(), oauth_verifier: credential(), store_base_url: 'http://127.0.0.1:1/' });
    t.is(guessed.status, 404);
    t.is(guessed.json?.error?.code, 'unknown_activation_url');
    t.is((await connector.running.services.storage.bindings.list()).length, 0);
  });

  test('a forged callback through the attacker\'s own URL cannot land in a signed-in victim\'s account, nor redirect to the attacker', async (t) => {
    const attackerStore = await startMockStore(t);
    const connector = await startConnector(backend, t, { openSignup: false });
    const victim = await signedIn(connector, (await urlsOf(connector, 'victim@example.com'), 'victim@example.com'));
    const { accountId: attackerId } = await urlsOf(connector, 'attacker@example.com');
    const { consumerKey, popupUrl } = await createAndActivate(attackerStore, connector, 'evil', { email: 'attacker@example.com', password: PASSWORD });
    const pending = await waitForState(connector, consumerKey, 'request_token');
    t.is(pending.accountId, attackerId, 'the binding belongs to the account whose URL it came through, from its first request');

    // The victim opens the lure: no Connect button, only a sign-in for the link's account.
    const page = await victim.get(popupUrl);
    t.is(page.status, 200);
    t.notRegex(page.text, /action="[^"]*\/connect"/);
    t.notRegex(page.text, /signup/);
    const connect = await victim.post(`${connector.url}${new URL(popupUrl).pathname}/connect`, hiddenFields(page.text));
    t.is(connect.status, 403);
    t.is(connect.location, null, 'no redirect to the attacker\'s host');
    const login = await victim.post(`${connector.url}${new URL(popupUrl).pathname}/login`, { ...hiddenFields(page.text), email: 'victim@example.com', password: PASSWORD });
    t.is(login.status, 403);
    t.is(login.location, null);
    const after = (await connector.binding(consumerKey))!;
    t.is(after.accountId, attackerId);
    t.is(after.state, 'request_token');
    t.is(attackerStore.admin.get(1).status, 'inactive');

    // The victim's own popup URL with the attacker's consumer key: as unknown as a key never seen.
    const victimUrls = await urlsOf(connector, 'victim@example.com');
    const own = await victim.get(`${victimUrls.identityLinkUrl}?${new URL(popupUrl).search.slice(1)}`);
    t.is(own.status, 404);
    t.regex(own.text, /We do not know this activation yet/);
    t.is((await connector.running.services.storage.bindings.listByAccount(victimUrls.accountId)).length, 0, 'nothing bound to the victim');
  });

  test('claiming by consumer key alone is refused: another account\'s popup URL, the shared popup, and signing in there', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t, { openSignup: false });
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector, 'merchant', { email: 'merchant@example.com', password: PASSWORD });
    await waitForState(connector, consumerKey, 'request_token');
    const thief = await urlsOf(connector, 'thief@example.com');
    const query = new URL(popupUrl).search;
    const browser = await signedIn(connector, 'thief@example.com');
    t.is((await browser.get(`${thief.identityLinkUrl}${query}`)).status, 404);
    t.is((await browser.get(`${connector.url}/magento/identity${query}`)).status, 404);
    const page = await browser.get(`${connector.url}/account`);
    const res = await browser.post(`${thief.identityLinkUrl}/connect`, { ...hiddenFields(page.text), oauth_consumer_key: consumerKey });
    t.is(res.status, 404);
    const b = (await connector.binding(consumerKey))!;
    t.is(b.state, 'request_token');
    t.not(b.accountId, thief.accountId);
    // The merchant finishes normally.
    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', 'merchant@example.com', PASSWORD);
    t.is(done.status, 302);
  });

  test('a signed-in member finishes a Reauthorize with one Connect button; rotation stops old URLs, connected stores keep working', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t, { openSignup: false });
    const owner = { email: 'owner@example.com', password: PASSWORD };
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector, 'shop', owner);
    await waitForState(connector, consumerKey, 'request_token');
    const browser = new Browser();
    t.is((await finishInPopup(browser, connector, popupUrl, 'login', owner.email, PASSWORD)).status, 302);
    const active = await waitForState(connector, consumerKey, 'active');

    const reauth = await mock.admin.reauthorize(integrationId);
    t.deepEqual(reauth.callback, { ok: true, status: 200 });
    await waitFor('the new request token', async () => (await connector.binding(consumerKey))?.requestToken);
    const page = await browser.get(reauth.popupUrl!);
    t.regex(page.text, /You are signed in as <strong>owner@example.com<\/strong>/);
    const connect = await browser.post(`${connector.url}${new URL(reauth.popupUrl!).pathname}/connect`, hiddenFields(page.text));
    t.is(connect.status, 302, connect.text.slice(0, 300));
    t.is(connect.location, mock.successCallbackUrl);
    const after = await waitForState(connector, consumerKey, 'active');
    t.notDeepEqual(after.accessToken, active.accountId);
    t.is(mock.admin.get(integrationId).status, 'active');

    // Rotation from the account page (POST-redirect-GET, CSRF-checked).
    const accountPage = await browser.get(`${connector.url}/account`);
    t.regex(accountPage.text, /<p class="origin">Connected from the Magento admin \(Activate\)<\/p>/);
    const oldCallback = decodeHtml(/id="callback-url" type="text" readonly value="([^"]+)"/.exec(accountPage.text)![1]!);
    t.is(oldCallback, mock.admin.get(integrationId).callbackUrl);
    t.is((await browser.post(`${connector.url}/account/activation-urls/rotate`, { csrf: 'wrong' })).status, 403);
    const rotated = await browser.post(`${connector.url}/account/activation-urls/rotate`, { csrf: hiddenFields(accountPage.text).csrf! });
    t.is(rotated.status, 303);
    t.is(rotated.location, '/account');
    const newPage = await browser.get(`${connector.url}/account`);
    const newCallback = decodeHtml(/id="callback-url" type="text" readonly value="([^"]+)"/.exec(newPage.text)![1]!);
    t.not(newCallback, oldCallback);
    t.regex(newPage.text, /The old ones no longer accept activations/);
    const old = await post(oldCallback, { oauth_consumer_key: credential(), oauth_consumer_secret: credential(), oauth_verifier: credential(), store_base_url: mock.baseUrl });
    t.is(old.status, 404);
    t.is(old.json?.error?.code, 'unknown_activation_url');
    const still = (await connector.binding(consumerKey))!;
    t.is(still.state, 'active', 'the connected store is untouched');
    const { key } = await connector.running.services.accounts.createApiKey(still.accountId!, 'k');
    t.is((await callApi(`${connector.url}/api/stores/${still.id}/rest/V1/products/24-MB01`, 'GET', key)).status, 200);
  });

  test('a deleted binding\'s consumer key stays reserved: another secret, or another account\'s URL, gets 409; the owner may come back', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t, { openSignup: false });
    const owner = await urlsOf(connector, 'owner@example.com');
    const other = await urlsOf(connector, 'other@example.com');
    const { consumerKey, popupUrl, integrationId } = await createAndActivate(mock, connector, 'shop', { email: 'owner@example.com', password: PASSWORD });
    await waitForState(connector, consumerKey, 'request_token');
    t.is((await finishInPopup(new Browser(), connector, popupUrl, 'login', 'owner@example.com', PASSWORD)).status, 302);
    const b = await waitForState(connector, consumerKey, 'active');
    const { key } = await connector.running.services.accounts.createApiKey(owner.accountId, 'k');
    t.is((await callApi(`${connector.url}/api/stores/${b.id}`, 'DELETE', key)).status, 204);
    t.is(await connector.binding(consumerKey), null);

    const secret = mock.admin.get(integrationId).consumerSecret;
    const fields = (s: string) => ({ oauth_consumer_key: consumerKey, oauth_consumer_secret: s, oauth_verifier: credential(), store_base_url: mock.baseUrl });
    const otherSecret = await post(other.callbackUrl, fields(credential()));
    t.is(otherSecret.status, 409);
    t.is(otherSecret.json?.error?.code, 'consumer_key_reserved');
    t.regex(otherSecret.json!.error!.message, /stays reserved/);
    const otherAccount = await post(other.callbackUrl, fields(secret));
    t.is(otherAccount.status, 409);
    t.is(otherAccount.json?.error?.code, 'consumer_key_reserved');
    const ownerAgain = await post(owner.callbackUrl, fields(credential()));
    t.is(ownerAgain.status, 409, 'even through the owner\'s URL, only with the original secret');
    t.is(await connector.binding(consumerKey), null, 'nothing stored');
    const back = await post(owner.callbackUrl, fields(secret));
    t.is(back.status, 200, back.text);
    t.is((await connector.binding(consumerKey))!.accountId, owner.accountId);
  });

  test('callbacks are rate limited per client address and per account URL (429, counted in the database)', async (t) => {
    const secretsKey = testSecretsKey();
    const connector = await startConnector(backend, t, { openSignup: false, secretsKey, limits: { callbackRatePerAddress: 1_000, callbackRatePerAccount: 3 } });
    const { callbackUrl } = await urlsOf(connector, 'busy@example.com');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(callbackUrl, { oauth_consumer_key: credential(), oauth_consumer_secret: credential(), oauth_verifier: credential(), store_base_url: 'http://127.0.0.1:9/' });
      statuses.push(res.status);
      if (res.status === 429) {
        t.is(res.json?.error?.code, 'callback_rate_limited');
        t.is(res.headers.get('retry-after'), '60');
      }
    }
    t.deepEqual(statuses, [200, 200, 200, 429, 429]);
    t.is((await connector.running.services.storage.bindings.list()).length, 3);
    // Another connector on the same database sees the same count.
    const second = await startConnector(backend, t, { openSignup: false, secretsKey, databaseUrl: connector.databaseUrl, limits: { callbackRatePerAddress: 4, callbackRatePerAccount: 1_000 } });
    const res = await post(`${second.url}/magento/callback/${'B'.repeat(43)}`, {});
    t.is(res.status, 429, 'the address already made 5 callbacks this minute');
  });

  test('pending bindings per account are capped (oldest go), a store\'s long error text is cut, its network failure shown only to members', async (t) => {
    const connector = await startConnector(backend, t, {
      openSignup: false,
      limits: { pendingBindingsPerAccount: 2, requestTokenPerHost: 1 },
      // A retry would come after the window (backoff >= 2 s): a network failure is final at once, with its reason.
      durations: { magentoWindowMs: 1_500, retryBaseDelayMs: 4_000, retryMaxDelayMs: 4_000 },
    });
    const { callbackUrl, identityLinkUrl, accountId } = await urlsOf(connector, 'owner@example.com');
    const problem = await fakeStore(t, 401, `oauth_problem=${'x'.repeat(64 * 1024)}`);
    const keys = [credential(), credential(), credential()];
    for (const key of keys) {
      t.is((await post(callbackUrl, { oauth_consumer_key: key, oauth_consumer_secret: credential(), oauth_verifier: credential(), store_base_url: problem })).status, 200);
    }
    const left = await connector.running.services.storage.bindings.listByAccount(accountId);
    t.deepEqual(left.map((b) => b.consumerKey).sort(), keys.slice(1).sort(), 'the oldest pending binding is gone');
    const failed = await waitForState(connector, keys[2]!, 'failed');
    t.true(failed.lastError!.length < 1_000, `stored error is ${failed.lastError!.length} characters`);
    // Both pending bindings done: the host's one request-token slot is free, so the next store's fetch starts at once
    // rather than waiting in its queue, on a loaded machine past the 1.5 s window.
    await waitForState(connector, keys[1]!, 'failed');

    // A closed port: the failure names our view of the network, so only a member sees it.
    const closed = `http://127.0.0.1:${await (async () => { const s = createServer(); await new Promise<void>((r) => s.listen(0, '127.0.0.1', r)); const p = (s.address() as AddressInfo).port; await new Promise<void>((r) => s.close(() => r())); return p; })()}/`;
    const key = credential();
    t.is((await post(callbackUrl, { oauth_consumer_key: key, oauth_consumer_secret: credential(), oauth_verifier: credential(), store_base_url: closed })).status, 200);
    const down = await waitForState(connector, key, 'failed');
    t.regex(down.lastError!, /request token/);
    const port = new URL(closed).port;
    const anonymous = await new Browser().get(`${identityLinkUrl}?oauth_consumer_key=${key}`);
    t.is(anonymous.status, 409);
    t.false(anonymous.text.includes(port), 'no network detail for a stranger');
    t.false(anonymous.text.includes('ECONNREFUSED'));
    const member = await (await signedIn(connector, 'owner@example.com')).get(`${identityLinkUrl}?oauth_consumer_key=${key}`);
    t.is(member.status, 409);
    t.regex(decodeHtml(member.text), /Could not get a request token from the store/);
  });

  test('unfinished bindings are deleted with their secrets some hours after Magento\'s window; connected ones stay', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t, { openSignup: false });
    const { callbackUrl } = await urlsOf(connector, 'owner@example.com');
    const { consumerKey: connected, popupUrl } = await createAndActivate(mock, connector, 'kept', { email: 'owner@example.com', password: PASSWORD });
    await waitForState(connector, connected, 'request_token');
    t.is((await finishInPopup(new Browser(), connector, popupUrl, 'login', 'owner@example.com', PASSWORD)).status, 302);
    const abandoned = credential();
    t.is((await post(callbackUrl, { oauth_consumer_key: abandoned, oauth_consumer_secret: credential(), oauth_verifier: credential(), store_base_url: 'http://127.0.0.1:9/' })).status, 200);
    await waitFor('the abandoned binding', () => connector.binding(abandoned));
    const { activation } = connector.running.services;
    await activation.drain();
    t.is(await activation.housekeeping(), 0, 'nothing is due yet');
    const { magentoWindowMs, abandonedBindingMs } = connector.config.durations;
    connector.clock.advance(magentoWindowMs + abandonedBindingMs + 60_000);
    t.is(await activation.housekeeping(), 1);
    t.is(await connector.binding(abandoned), null, 'gone, with its sealed secrets');
    t.is((await connector.binding(connected))?.state, 'active', 'a connected store is never housekept');
  });

  test('OPEN_SIGNUP_ACTIVATION: the shared popup shows the store and binds it only after an explicit confirmation; one claim, forever', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t, { openSignup: true });
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector, 'open');
    await waitForState(connector, consumerKey, 'request_token');
    const browser = new Browser();
    const page = await browser.get(popupUrl);
    t.regex(page.text, new RegExp(`${mock.baseUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is my store`));
    const unconfirmed = await browser.post(`${connector.url}/magento/identity/signup`, { ...hiddenFields(page.text), email: 'first@example.com', password: PASSWORD });
    t.is(unconfirmed.status, 400);
    t.regex(decodeHtml(unconfirmed.text), /Confirm that .* is your store/);
    t.is((await connector.binding(consumerKey))!.accountId, null, 'nothing bound without the confirmation');
    const done = await finishInPopup(browser, connector, popupUrl, 'login', 'first@example.com', PASSWORD);
    t.is(done.status, 302);
    const owned = (await connector.binding(consumerKey))!;
    t.truthy(owned.accountId);
    const second = await finishInPopup(new Browser(), connector, popupUrl, 'signup', 'second@example.com', PASSWORD);
    t.is(second.status, 409);
    t.is((await connector.binding(consumerKey))!.accountId, owned.accountId);
  });
});
