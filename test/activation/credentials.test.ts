// Issue 17: connecting a store whose Magento cannot reach us with the integration's four credentials. The mock's admin
// creates an integration without URLs and mints the four values on Activate (as Magento's TokensDialog does); they are
// pasted into the operator API and the account page, end to end over HTTP on both backends. A good paste connects
// (active, origin "credentials", profile detected, store.connected delivered, the proxy signs with it); every kind
// of wrong value is explained and stores nothing (the database is compared before and after); a bound key is refused.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { fixText } from '../../src/activation/fixes.js';
import { credentialsConnected, credentialsReconnected, revoked, transitionEvent } from '../../src/activation/transitions.js';
import { OffsetClock } from '../../src/clock.js';
import { bindingEvents } from '../../src/webhooks/events.js';
import type { MockStore } from '../../src/mock-store/app.js';
import { callApi, type ApiResponse } from '../helpers/activated.js';
import { activateAndSignUp, activationUrlsFor, Browser, finishInPopup, hiddenFields, PASSWORD, startConnector, startMockStore, waitFor, waitForState, type Connector } from '../helpers/connector.js';
import { forEachBackend, freshStorage, rawQuery, type Backend } from '../helpers/db.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const random32 = () => randomUUID().replace(/-/g, '');

interface Details {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
}

/** An integration without URLs, activated in the mock's admin: the four values Magento shows. */
async function mintedCredentials(mock: MockStore, name = `CRM ${randomUUID()}`): Promise<Details & { integrationId: number }> {
  const integration = mock.admin.create({ name });
  const result = await mock.admin.activate(integration.id);
  if (!result.tokens || result.popupUrl !== null || result.callback !== null) throw new Error(`expected minted tokens: ${JSON.stringify(result)}`);
  return { ...result.tokens, integrationId: integration.id };
}

interface Setup {
  connector: Connector;
  mock: MockStore;
  accountId: string;
  accountKey: string;
  operator: (method: string, path: string, init?: object) => Promise<ApiResponse>;
}

async function setup(backend: Backend, t: ExecutionContext): Promise<Setup> {
  const mock = await startMockStore(t);
  const connector = await startConnector(backend, t);
  const key = (await connector.running.services.operators.keys.create('crm')).key;
  const operator = (method: string, path: string, init = {}) => callApi(`${connector.url}/api${path}`, method, key, init);
  const created = await operator('POST', '/accounts', json({ email: `shop-${randomUUID()}@example.com`, externalId: `tenant-${randomUUID()}` }));
  if (created.status !== 201) throw new Error(created.text);
  const accountId = (created.json as { id: string }).id;
  const accountKey = ((await operator('POST', `/accounts/${accountId}/api-keys`, json({ name: 'crm' }))).json as { key: string }).key;
  return { connector, mock, accountId, accountKey, operator };
}

/** Everything a paste could write: bindings, their timelines, the outbox. */
async function databaseState(s: Setup): Promise<unknown> {
  const q = (sql: string) => rawQuery(s.connector.backend, s.connector.databaseUrl, sql);
  return {
    bindings: await q('SELECT "id", "consumerKey", "state", "version" FROM "Binding" ORDER BY "id"'),
    timeline: await q('SELECT "id", "bindingId", "kind" FROM "BindingEvent" ORDER BY "id"'),
    events: await q('SELECT "id", "type" FROM "WebhookEvent" ORDER BY "id"'),
  };
}

const withoutId = ({ integrationId: _id, ...values }: Details & { integrationId: number }): Details => values;
const paste = (s: Setup, body: Record<string, unknown>, accountId = s.accountId) => s.operator('POST', `/accounts/${accountId}/stores`, json(body));
const errorOf = (res: ApiResponse) => (res.json as { error: { code: string; message: string } }).error;

forEachBackend((backend, test) => {
  test('a good paste connects: active, origin credentials, profile detected, as GET shows it; the proxy signs with it; store.connected delivered', async (t) => {
    const s = await setup(backend, t);
    const receiver = await startReceiver(t);
    const hook = await s.operator('POST', '/webhooks', json({ url: receiver.url }));
    receiver.secret = (hook.json as { secret: string }).secret;
    const d = await mintedCredentials(s.mock);

    const res = await paste(s, { storeBaseUrl: ` ${s.mock.baseUrl}\n`, consumerKey: d.consumerKey, consumerSecret: d.consumerSecret, accessToken: d.accessToken, accessTokenSecret: d.accessTokenSecret });
    t.is(res.status, 201, res.text);
    const store = res.json as { id: string; state: string; origin: string; accountId: string; storeBaseUrl: string; signing: { profile: string }; timeline: { kind: string }[] };
    t.like(store, { state: 'active', origin: 'credentials', accountId: s.accountId, storeBaseUrl: s.mock.baseUrl, signing: { profile: 'laminas' } });
    t.is(res.headers.get('location'), `/api/stores/${store.id}`);
    t.is(store.timeline[0]?.kind, 'credentials_connected');
    for (const secret of [d.consumerSecret, d.accessToken, d.accessTokenSecret]) t.false(res.text.includes(secret), 'no secret in the answer');

    const shown = await callApi(`${s.connector.url}/api/stores/${store.id}`, 'GET', s.accountKey);
    t.is(shown.status, 200);
    t.deepEqual({ ...(shown.json as object), updatedAt: null }, { ...store, updatedAt: null }, 'the 201 body is the store as GET /api/stores/:id shows it');

    // Sealed at rest like any binding: the row holds none of the pasted secrets in clear.
    const [row] = await rawQuery(backend, s.connector.databaseUrl, `SELECT * FROM "Binding" WHERE "id" = '${store.id}'`);
    t.is(row!.origin, 'credentials');
    for (const secret of [d.consumerSecret, d.accessToken, d.accessTokenSecret]) t.false(JSON.stringify(row).includes(secret));

    // One proxied call through it, with the account's own key.
    const call = await callApi(`${s.connector.url}/api/stores/${store.id}/rest/V1/products/24-MB01`, 'GET', s.accountKey);
    t.is(call.status, 200, call.text);
    t.is((call.json as { sku: string }).sku, '24-MB01');

    const [connected] = await waitFor('store.connected', () => (receiver.delivered().length ? receiver.delivered() : undefined));
    t.is(connected!.body.type, 'store.connected');
    t.true(connected!.verified);
    t.like(connected!.body.data.store, { id: store.id, state: 'active', origin: 'credentials' });
    t.like(connected!.body.data.account, { id: s.accountId });

    // The doctor treats it like any other binding.
    const health = await callApi(`${s.connector.url}/api/stores/${store.id}/health?refresh=true`, 'GET', s.accountKey);
    t.is(health.status, 200, health.text);
    const checks = (health.json as { checks: { name: string; status: string }[] }).checks;
    t.is(checks.find((c) => c.name === 'token')?.status, 'ok');
    t.false(s.connector.logs().includes(d.accessTokenSecret) || s.connector.logs().includes(d.consumerSecret), 'no secret logged');
  });

  test('each kind of wrong value is explained, naming the value, and nothing is stored', async (t) => {
    const s = await setup(backend, t);
    const d = await mintedCredentials(s.mock);
    const good = { storeBaseUrl: s.mock.baseUrl, consumerKey: d.consumerKey, consumerSecret: d.consumerSecret, accessToken: d.accessToken, accessTokenSecret: d.accessTokenSecret };
    const before = await databaseState(s);
    const refused = async (body: Record<string, unknown>, status: number, code: string, message: RegExp) => {
      const res = await paste(s, body);
      t.is(res.status, status, res.text);
      t.is(res.headers.get('x-connector-error'), code);
      t.is(errorOf(res).code, code);
      t.regex(errorOf(res).message, message);
      for (const secret of [d.consumerSecret, d.accessToken, d.accessTokenSecret]) t.false(res.text.includes(secret), 'no secret echoed');
    };

    // Shapes (Magento's values are 32 of [0-9a-z]); the store URL by the callback's rules.
    await refused({ ...good, consumerKey: d.consumerKey.slice(1) }, 400, 'invalid_pasted_credentials', /^consumerKey: .*31 characters/);
    await refused({ ...good, accessToken: d.accessToken.toUpperCase() }, 400, 'invalid_pasted_credentials', /^accessToken: .*upper-case/);
    await refused({ ...good, accessTokenSecret: d.accessToken }, 400, 'invalid_pasted_credentials', /^accessTokenSecret: the Access Token Secret is the same as the Access Token/);
    await refused({ ...good, consumerSecret: '' }, 400, 'invalid_pasted_credentials', /^consumerSecret: the Consumer Secret is missing/);
    await refused({ ...good, storeBaseUrl: 'ftp://shop.example.com/' }, 400, 'invalid_pasted_credentials', /^storeBaseUrl: the store URL must be an https:\/\/ URL/);
    await refused({ ...good, storeBaseUrl: 'https://user:pw@shop.example.com/' }, 400, 'invalid_pasted_credentials', /^storeBaseUrl: .*user name or password/);
    const extra = await paste(s, { ...good, verifier: 'x' });
    t.is(extra.status, 400);
    t.regex(errorOf(extra).message, /^verifier: unknown body field/);

    // What Magento answers.
    await refused({ ...good, consumerKey: random32() }, 422, 'consumer_key_rejected', /does not know this consumer key \("A consumer having the specified key does not exist"\)/);
    await refused({ ...good, accessToken: random32() }, 422, 'token_rejected', /refused the access token \("Specified token does not exist"\)/);
    // Within Magento's 300 s of the consumer's creation the request-token endpoint tells which secret is wrong.
    await refused({ ...good, consumerSecret: random32() }, 422, 'signature_rejected', /the Consumer Secret is wrong/);
    await refused({ ...good, accessTokenSecret: random32() }, 422, 'signature_rejected', /the Consumer Secret is right .* so the Access Token Secret is wrong/);
    s.mock.knobs.advanceClock(301);
    await refused({ ...good, accessTokenSecret: random32() }, 422, 'signature_rejected', /the Consumer Secret or the Access Token Secret is wrong/);

    // Two integrations' values mixed: Magento checks that the token belongs to the consumer (docs/magento-protocol.md §7c).
    const other = await mintedCredentials(s.mock);
    await refused({ ...good, accessToken: other.accessToken, accessTokenSecret: other.accessTokenSecret }, 422, 'token_rejected', /refused the access token \("Token is not associated with the specified consumer"\)/);

    // Not a Magento store (the connector's own 404 page), and a store that cannot be reached.
    await refused({ ...good, storeBaseUrl: `${s.connector.url}/shop/` }, 422, 'not_magento_store', /did not answer as a Magento store: the store answered HTTP 404/);
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await refused({ ...good, storeBaseUrl: `http://127.0.0.1:${port}/` }, 502, 'store_unreachable', new RegExp(`Could not reach the store at http://127\\.0\\.0\\.1:${port}/: .*(refused|ECONNREFUSED)`, 'i'));

    t.deepEqual(await databaseState(s), before, 'nothing stored by any refusal');
    // And the same values, right, still connect.
    t.is((await paste(s, good)).status, 201);
  });

  test('the egress policy applies: a private store URL is refused when private stores are not allowed', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t, { allowPrivate: false });
    const key = (await connector.running.services.operators.keys.create('crm')).key;
    const account = await connector.running.services.operators.accounts.create({ email: `shop-${randomUUID()}@example.com`, externalId: null });
    const d = await mintedCredentials(mock);
    const body = { consumerKey: d.consumerKey, consumerSecret: d.consumerSecret, accessToken: d.accessToken, accessTokenSecret: d.accessTokenSecret };
    const literal = await callApi(`${connector.url}/api/accounts/${account.id}/stores`, 'POST', key, json({ ...body, storeBaseUrl: mock.baseUrl }));
    t.is(literal.status, 400);
    t.regex(errorOf(literal).message, /^storeBaseUrl: .*only connects stores at a public https address/);
    t.deepEqual(await connector.running.services.storage.bindings.list(), []);
  });

  test('a consumer key bound already, by a paste or by an activation, is refused and nothing changes', async (t) => {
    const s = await setup(backend, t);
    const d = await mintedCredentials(s.mock);
    const good = { storeBaseUrl: s.mock.baseUrl, consumerKey: d.consumerKey, consumerSecret: d.consumerSecret, accessToken: d.accessToken, accessTokenSecret: d.accessTokenSecret };
    const first = await paste(s, good);
    t.is(first.status, 201);
    const before = await databaseState(s);
    const again = await paste(s, good);
    t.is(again.status, 409);
    t.is(errorOf(again).code, 'consumer_key_bound');
    const other = await s.operator('POST', '/accounts', json({ email: `other-${randomUUID()}@example.com` }));
    const elsewhere = await paste(s, good, (other.json as { id: string }).id);
    t.is(elsewhere.status, 409, 'another account cannot take it either');
    const after = (await databaseState(s)) as { bindings: unknown; events: unknown; timeline: { kind: string }[] };
    t.deepEqual(after.bindings, (before as typeof after).bindings);
    t.deepEqual(after.events, (before as typeof after).events);
    t.deepEqual(after.timeline.slice((before as typeof after).timeline.length).map((e) => e.kind), ['credentials_refused', 'credentials_refused'], 'the refusals are in the timeline');

    // A binding made by Magento's callback and the popup: its integration's details pasted are refused the same way.
    const activated = await activateAndSignUp(s.mock, s.connector, `merchant-${randomUUID()}@example.com`, 'CRM activated');
    const view = s.mock.admin.get(activated.integrationId).details!;
    const pasted = await paste(s, { storeBaseUrl: s.mock.baseUrl, ...view });
    t.is(pasted.status, 409);
    t.is(errorOf(pasted).code, 'consumer_key_bound');
    const binding = await s.connector.binding(activated.consumerKey);
    t.like(binding, { id: activated.binding.id, origin: 'callback', accountId: activated.binding.accountId, state: 'active' });
  });

  test('a deleted store\'s key stays reserved: another account\'s paste is refused, nothing stored; its own account may paste it again', async (t) => {
    const s = await setup(backend, t);
    const d = await mintedCredentials(s.mock);
    const good = { storeBaseUrl: s.mock.baseUrl, ...withoutId(d) };
    const first = await paste(s, good);
    t.is(first.status, 201, first.text);
    const removed = await s.operator('DELETE', `/stores/${(first.json as { id: string }).id}`);
    t.is(removed.status, 204, removed.text);
    const other = await s.operator('POST', '/accounts', json({ email: `other-${randomUUID()}@example.com` }));
    const before = await databaseState(s);
    const elsewhere = await paste(s, good, (other.json as { id: string }).id);
    t.is(elsewhere.status, 409, elsewhere.text);
    t.is(errorOf(elsewhere).code, 'consumer_key_reserved');
    t.deepEqual(await databaseState(s), before, 'nothing stored');
    const back = await paste(s, good);
    t.is(back.status, 201, back.text);
  });

  test('probes treat it like any binding: Reauthorize in Magento -> revoked (paste the new token); the new token pasted reconnects the same store', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t, { probes: { intervalMs: 1_500, ratePerSecond: 50, tickMs: 100, claimMs: 10_000 } });
    const s: Setup = await (async () => {
      const key = (await connector.running.services.operators.keys.create('crm')).key;
      const operator = (method: string, path: string, init = {}) => callApi(`${connector.url}/api${path}`, method, key, init);
      const account = await connector.running.services.operators.accounts.create({ email: `shop-${randomUUID()}@example.com`, externalId: null });
      return { connector, mock, accountId: account.id, accountKey: '', operator };
    })();
    const receiver = await startReceiver(t);
    receiver.secret = (await connector.running.services.operators.webhooks.create({ url: receiver.url })).secret;
    const d = await mintedCredentials(mock);
    const first = await paste(s, { storeBaseUrl: mock.baseUrl, ...withoutId(d) });
    t.is(first.status, 201, first.text);
    const storeId = (first.json as { id: string }).id;

    // Reauthorize on an integration without URLs: Magento deletes the token and mints new ones at once.
    const reauth = await mock.admin.reauthorize(d.integrationId);
    t.truthy(reauth.tokens);
    t.not(reauth.tokens!.accessToken, d.accessToken);
    const revoked = await waitFor('revoked by a probe', async () => {
      const b = await connector.binding(d.consumerKey);
      return b?.state === 'revoked' ? b : undefined;
    });
    t.is(revoked.fix, 'paste_new_credentials');
    const shown = await connector.running.services.stores.getStore(s.accountId, storeId);
    t.regex(shown.lastError!.fix!, /click Reauthorize on this integration, then paste its new Access Token/);

    // Other values for the key are refused; the new token with the same key, secret and URL reconnects.
    const otherSecret = await paste(s, { storeBaseUrl: mock.baseUrl, ...withoutId(d), consumerSecret: random32(), accessToken: reauth.tokens!.accessToken, accessTokenSecret: reauth.tokens!.accessTokenSecret });
    t.is(otherSecret.status, 409);
    const again = await paste(s, { storeBaseUrl: mock.baseUrl, ...reauth.tokens! });
    t.is(again.status, 200, again.text);
    t.like(again.json, { id: storeId, state: 'active', origin: 'credentials', revokedAt: null, lastError: null });
    const same = await paste(s, { storeBaseUrl: mock.baseUrl, ...reauth.tokens! });
    t.is(same.status, 409);
    t.regex(errorOf(same).message, /already connected with these very credentials/);

    await waitFor('three events', () => receiver.delivered().length >= 3);
    t.deepEqual(receiver.delivered().map((e) => e.body.type), ['store.connected', 'store.revoked', 'store.reauthorized']);
    t.true(receiver.delivered().every((e) => e.verified && e.body.data.store.id === storeId));
  });

  test('a pasted store later given our URLs and activated from the Magento admin becomes origin callback: its revoke fix speaks of Reauthorize', async (t) => {
    const s = await setup(backend, t);
    const email = `merchant-${randomUUID()}@example.com`;
    const account = await s.connector.running.services.accounts.signUp(email, PASSWORD);
    const d = await mintedCredentials(s.mock);
    const pasted = await paste(s, { storeBaseUrl: s.mock.baseUrl, ...withoutId(d) }, account.id);
    t.is(pasted.status, 201, pasted.text);
    t.is((pasted.json as { origin: string }).origin, 'credentials');

    // The merchant pastes the account's URLs into the integration and clicks Reauthorize: Magento's handshake runs.
    s.mock.admin.update(d.integrationId, await activationUrlsFor(s.connector, { email, password: PASSWORD }));
    const reauth = await s.mock.admin.reauthorize(d.integrationId);
    t.true(reauth.callback?.ok, JSON.stringify(reauth.callback));
    await waitForState(s.connector, d.consumerKey, 'active');
    await waitFor('the request token', async () => ((await s.connector.binding(d.consumerKey))?.requestToken ? true : undefined));
    const done = await finishInPopup(new Browser(), s.connector, reauth.popupUrl!, 'login', email, PASSWORD);
    t.is(done.status, 302, done.text.slice(0, 300));
    const after = await s.connector.binding(d.consumerKey);
    t.like(after, { id: (pasted.json as { id: string }).id, origin: 'callback', state: 'active', accountId: account.id });
    t.not(after!.accessToken!.token, d.accessToken, 'the token the handshake issued');

    // Deleted in Magento now: the call that finds out revokes it, and the fix is the handshake's, not "paste".
    s.mock.admin.delete(d.integrationId);
    const key = ((await s.operator('POST', `/accounts/${account.id}/api-keys`, json({ name: 'crm' }))).json as { key: string }).key;
    const call = await callApi(`${s.connector.url}/api/stores/${after!.id}/rest/V1/products/24-MB01`, 'GET', key);
    t.is(call.status, 401, call.text);
    const revoked = await waitForState(s.connector, d.consumerKey, 'revoked');
    t.not(revoked.fix, 'paste_new_credentials');
    t.regex(fixText(revoked.fix)!, /Activate|Reauthorize/);
  });

  test('operator keys only; an unknown account is 404; the API describes the route', async (t) => {
    const s = await setup(backend, t);
    const d = await mintedCredentials(s.mock);
    const good = { storeBaseUrl: s.mock.baseUrl, consumerKey: d.consumerKey, consumerSecret: d.consumerSecret, accessToken: d.accessToken, accessTokenSecret: d.accessTokenSecret };
    const byAccount = await callApi(`${s.connector.url}/api/accounts/${s.accountId}/stores`, 'POST', s.accountKey, json(good));
    t.is(byAccount.status, 403);
    t.is(errorOf(byAccount).code, 'operator_only');
    const unknown = await paste(s, good, randomUUID());
    t.is(unknown.status, 404);
    t.is(errorOf(unknown).code, 'account_not_found');
    t.deepEqual(await s.connector.running.services.storage.bindings.list(), []);
    const doc = (await callApi(`${s.connector.url}/api/openapi.json`, 'GET', null)).json as { paths: Record<string, Record<string, unknown>> };
    t.truthy(doc.paths['/api/accounts/{id}/stores']?.post);
  });

  test('the account page: Connect with credentials (CSRF, PRG with a notice); a refusal shows the form again with the reason, never the secrets', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t);
    const url = connector.url;
    const browser = new Browser();
    const login = await browser.get(`${url}/account/login`);
    const email = `merchant-${randomUUID()}@example.com`;
    const signedUp = await browser.post(`${url}/account/signup`, { ...hiddenFields(login.text), email, password: PASSWORD });
    t.is(signedUp.status, 302, signedUp.text.slice(0, 300));
    const page = await browser.get(`${url}/account`);
    t.is(page.status, 200);
    t.true(page.text.includes('Connect with credentials'));
    t.true(page.text.includes('action="/account/stores/credentials"'));
    const csrf = hiddenFields(page.text).csrf!;
    const d = await mintedCredentials(mock);
    const good = { storeBaseUrl: mock.baseUrl, consumerKey: d.consumerKey, consumerSecret: d.consumerSecret, accessToken: d.accessToken, accessTokenSecret: d.accessTokenSecret };

    const noCsrf = await browser.post(`${url}/account/stores/credentials`, good);
    t.is(noCsrf.status, 403);

    const wrong = await browser.post(`${url}/account/stores/credentials`, { ...good, csrf, accessTokenSecret: random32() });
    t.is(wrong.status, 422);
    t.regex(wrong.text, /class="alert bad paste-error"/);
    t.regex(wrong.text, /so the Access Token Secret is wrong/);
    t.true(wrong.text.includes(`value="${mock.baseUrl}"`), 'the store URL is shown again');
    t.true(wrong.text.includes(`value="${d.consumerKey}"`), 'the consumer key is shown again');
    t.false(wrong.text.includes(d.consumerSecret), 'the consumer secret is not');
    t.false(wrong.text.includes(d.accessToken), 'nor the access token');
    t.regex(wrong.text, /id="paste-accessTokenSecret"[^>]*aria-invalid="true"/);
    t.deepEqual(await connector.running.services.storage.bindings.list(), []);

    const done = await browser.post(`${url}/account/stores/credentials`, { ...good, csrf });
    t.is(done.status, 303, done.text.slice(0, 300));
    t.is(done.location, '/account');
    const after = await browser.get(`${url}/account`);
    t.regex(after.text, new RegExp(`${mock.baseUrl.replace(/[.]/g, '\\.')} is connected with its credentials`));
    t.regex(after.text, new RegExp(`<td class="store">${mock.baseUrl.replace(/[.]/g, '\\.')}</td>\\s*<td>active</td>`));
    t.regex(after.text, /<p class="origin">Connected with pasted credentials /, 'the row says how the store was connected');
    const [binding] = await connector.running.services.storage.bindings.list();
    const account = await connector.running.services.storage.accounts.byEmail(email);
    t.like(binding, { origin: 'credentials', state: 'active', accountId: account!.id });
    const reload = await browser.get(`${url}/account`);
    t.false(reload.text.includes('is connected with its credentials'), 'the notice is shown once');
  });
});

// The storage half: the new row and its store.connected event are one transaction; a key taken meanwhile writes
// neither (the insert is the arbiter when a callback or another paste wins the race).
forEachBackend((backend, test) => {
  test('bindings.insert: the connected row and its store.connected event together; a taken key writes neither', async (t) => {
    const { storage, raw } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const account = await storage.accounts.create({ id: randomUUID(), email: `a-${randomUUID()}@example.com`, passwordHash: '' });
    const row = (consumerSecret: string) => ({
      id: randomUUID(),
      consumerKey: 'k'.repeat(32),
      storeBaseUrl: 'https://shop.example.com/',
      state: 'pending' as const,
      consumerSecret,
      verifier: null,
      callbackAt: clock.now(),
      origin: 'credentials' as const,
    });
    const patch = credentialsConnected({ accountId: account!.id, pair: { token: 't'.repeat(32), secret: 's'.repeat(32) }, profile: 'native', now: clock.now() });
    const created = await storage.bindings.insert(row('c'.repeat(32)), patch, bindingEvents(storage.accounts, clock));
    t.like(created, { state: 'active', origin: 'credentials', accountId: account!.id, signingProfile: 'native', verifier: null, nextAttemptAt: null, version: 0 });
    t.deepEqual(created!.accessToken, { token: 't'.repeat(32), secret: 's'.repeat(32), verifier: null });
    t.deepEqual(await storage.bindings.byId(created!.id), created);
    const events = await raw('SELECT "type", "storeId" FROM "WebhookEvent"');
    t.deepEqual(events, [{ type: 'store.connected', storeId: created!.id }]);

    t.is(await storage.bindings.insert(row('d'.repeat(32)), patch, bindingEvents(storage.accounts, clock)), null);
    t.is((await raw('SELECT "id" FROM "WebhookEvent"')).length, 1, 'no event for the lost insert');
    t.is((await storage.bindings.byConsumerKey('k'.repeat(32)))!.consumerSecret, 'c'.repeat(32));
    // A callback binding keeps the default origin.
    const fromCallback = await storage.bindings.create({ ...row('e'.repeat(32)), consumerKey: 'm'.repeat(32), verifier: 'v'.repeat(32) });
    t.is(fromCallback!.origin, 'callback');
    t.is((await storage.bindings.byId(fromCallback!.id))!.origin, 'callback');
  });
});

test('credentialsConnected: active at once, no verifier, the detected profile; its event is store.connected', (t) => {
  const now = new Date('2026-12-01T13:00:00Z');
  const patch = credentialsConnected({ accountId: 'a1', pair: { token: 't', secret: 's' }, profile: 'laminas', now });
  t.like(patch, { state: 'active', accountId: 'a1', verifier: null, requestToken: null, nextAttemptAt: null, activatedAt: now, signingProfile: 'laminas', profileDetectedAt: now });
  const blank = { accessToken: null, activatedAt: null, state: 'pending' } as unknown as Parameters<typeof transitionEvent>[0];
  t.is(transitionEvent(blank, patch), 'store.connected');
});

test('credentialsReconnected: only the same account, secret and store URL of a pasted binding, with a new token; revoked asks for one', (t) => {
  const now = new Date('2026-12-01T13:00:00Z');
  const cur = {
    origin: 'credentials', accountId: 'a1', consumerSecret: 'cs', storeBaseUrl: 'https://shop.example.com/', state: 'revoked',
    accessToken: null, activatedAt: new Date('2026-12-01T12:00:00Z'), callbackAt: new Date('2026-12-01T12:00:00Z'), verifier: null, requestToken: null,
  } as unknown as Parameters<typeof credentialsReconnected>[0];
  const event = { accountId: 'a1', consumerSecret: 'cs', storeBaseUrl: 'https://shop.example.com/', pair: { token: 't2', secret: 's2' }, profile: 'native' as const, now };
  const patch = credentialsReconnected(cur, event);
  t.like(patch, { state: 'active', accessToken: { token: 't2', secret: 's2', verifier: null }, revokedAt: null, fix: null, signingProfile: 'native' });
  t.is(transitionEvent(cur, patch!), 'store.reauthorized');
  t.is(credentialsReconnected({ ...cur, origin: 'callback' }, event), null, 'a callback binding is the callback flow\'s');
  t.is(credentialsReconnected(cur, { ...event, accountId: 'a2' }), null);
  t.is(credentialsReconnected(cur, { ...event, consumerSecret: 'other' }), null);
  t.is(credentialsReconnected(cur, { ...event, storeBaseUrl: 'https://other.example.com/' }), null);
  t.is(credentialsReconnected({ ...cur, accessToken: { token: 't2', secret: 's2', verifier: null } }, event), null, 'the token it holds already');
  const active = { ...cur, state: 'active', accessToken: { token: 't1', secret: 's1', verifier: null } } as typeof cur;
  t.is(revoked(active, { accessToken: 't1', message: 'Specified token does not exist', now })?.fix, 'paste_new_credentials');
  t.is(revoked({ ...active, origin: 'callback' }, { accessToken: 't1', message: 'Specified token does not exist', now })?.fix, 'reauthorize');
});
