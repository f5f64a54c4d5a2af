// Activate / Reauthorize / Delete as the Magento admin runs them: the callback POST, the popup URL, Magento's token
// rows (docs/magento-protocol.md §4a) and what each step does to tokens a third party holds.
import test, { type ExecutionContext } from 'ava';
import type { MockStore } from '../../src/mock-store/app.js';
import {
  accessToken,
  callbackReceiver,
  createAndActivate,
  form,
  fullyActivate,
  IDENTITY_URL,
  json,
  problem,
  raw,
  requestToken,
  signed,
  startStore,
} from './helpers.js';

const KEY = /^[0-9a-z]{32}$/;

/** Activates an integration whose Callback URL answers 302 to another receiver. */
async function activateThroughRedirect(t: ExecutionContext, store: MockStore) {
  const target = await callbackReceiver(t);
  const redirector = await callbackReceiver(t);
  redirector.respond = (_req, res) => {
    res.writeHead(302, { Location: target.url });
    res.end();
  };
  const integration = store.admin.create({ name: 'r', callbackUrl: redirector.url, identityLinkUrl: IDENTITY_URL });
  return { target, redirector, result: await store.admin.activate(integration.id) };
}

test('the callback POST: form-encoded, exactly four fields, 32-char [0-9a-z] credentials, store base URL', async (t) => {
  const store = await startStore(t);
  const receiver = await callbackReceiver(t);
  const { result, callback } = await createAndActivate(store, receiver);
  const got = receiver.received[0]!;
  t.is(got.contentType, 'application/x-www-form-urlencoded');
  t.deepEqual(Object.keys(form(got.rawBody)).sort(), ['oauth_consumer_key', 'oauth_consumer_secret', 'oauth_verifier', 'store_base_url']);
  t.regex(callback.oauth_consumer_key, KEY);
  t.regex(callback.oauth_consumer_secret, KEY);
  t.regex(callback.oauth_verifier, KEY);
  t.is(callback.store_base_url, store.baseUrl);
  t.regex(store.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  t.true(got.rawBody.includes(`store_base_url=${encodeURIComponent(store.baseUrl)}`), 'PHP urlencode of the URL');
  t.deepEqual(result.callback, { ok: true, status: 200 });
});

test('popupUrl is the identity URL + ?oauth_consumer_key=..&success_call_back=<admin URL> (blind ?, $.param encoding)', async (t) => {
  const store = await startStore(t);
  const { result, callback } = await createAndActivate(store, await callbackReceiver(t));
  const expected = `${IDENTITY_URL}?oauth_consumer_key=${callback.oauth_consumer_key}&success_call_back=${encodeURIComponent(store.successCallbackUrl)}`;
  t.is(result.popupUrl, expected);
  t.regex(store.successCallbackUrl, /\/admin\/admin\/integration\/loginSuccessCallback\/key\/[0-9a-f]{64}\/$/);
});

test('indexPhp: store_base_url ends in index.php/ and only /index.php/... paths are served', async (t) => {
  const store = await startStore(t, { indexPhp: true });
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  t.regex(callback.store_base_url, /\/index\.php\/$/);
  t.is((await requestToken(callback.store_base_url, callback)).status, 200);
  const withoutIndex = await raw({ method: 'POST', url: callback.store_base_url.replace('index.php/', '') + 'oauth/token/request' });
  t.is(withoutIndex.status, 404);
});

test('the admin JSON API: create 201, get, list, activate answers {popupUrl, callback}', async (t) => {
  const store = await startStore(t);
  const receiver = await callbackReceiver(t);
  // The same integration, asked for twice: created, then refused as a duplicate.
  const create = () =>
    raw({
      method: 'POST',
      url: `${store.adminUrl}api/integrations`,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'CRM', callbackUrl: receiver.url, identityLinkUrl: IDENTITY_URL }),
    });
  const created = await create();
  t.is(created.status, 201);
  const integration = json(created) as { id: number; status: string; consumerKey: string };
  t.is(integration.status, 'inactive');
  t.regex(integration.consumerKey, KEY);

  const activated = await raw({ method: 'POST', url: `${store.adminUrl}api/integrations/${integration.id}/activate` });
  t.is(activated.status, 200);
  const body = json(activated) as { popupUrl: string; callback: { ok: boolean; status: number } };
  t.deepEqual(body.callback, { ok: true, status: 200 });
  t.true(body.popupUrl.startsWith(`${IDENTITY_URL}?oauth_consumer_key=${integration.consumerKey}&success_call_back=`));

  const got = json(await raw({ method: 'GET', url: `${store.adminUrl}api/integrations/${integration.id}` })) as {
    status: string;
    tokens: { type: string; verifier: string }[];
  };
  t.is(got.status, 'inactive', 'Active only once the access token was issued');
  t.deepEqual(got.tokens.map((x) => x.type), ['verifier']);
  t.is(got.tokens[0]!.verifier, receiver.received[0]!.fields.oauth_verifier);

  const list = json(await raw({ method: 'GET', url: `${store.adminUrl}api/integrations` })) as { items: unknown[] };
  t.is(list.items.length, 1);

  const dup = await create();
  t.is(dup.status, 409);
});

test('Activate on an active integration and Reauthorize on an inactive one are 409 (the grid offers neither)', async (t) => {
  const store = await startStore(t);
  const receiver = await callbackReceiver(t);
  const { integration } = await createAndActivate(store, receiver);
  const reauth = await raw({ method: 'POST', url: `${store.adminUrl}api/integrations/${integration.id}/reauthorize` });
  t.is(reauth.status, 409);
  t.is((json(reauth) as { error: { code: string } }).error.code, 'not_active');

  const rt = form((await requestToken(store.baseUrl, receiver.received[0]!.fields)).body) as { oauth_token: string; oauth_token_secret: string };
  t.is((await accessToken(store.baseUrl, receiver.received[0]!.fields, rt)).status, 200);
  const again = await raw({ method: 'POST', url: `${store.adminUrl}api/integrations/${integration.id}/activate` });
  t.is(again.status, 409);
  t.is(receiver.received.length, 1, 'no callback was sent');
});

test('a second Activate before any request token reuses the verifier row: same verifier, same row', async (t) => {
  const store = await startStore(t);
  const receiver = await callbackReceiver(t);
  const { integration, callback } = await createAndActivate(store, receiver);
  await store.admin.activate(integration.id);
  const second = receiver.received[1]!.fields;
  t.is(second.oauth_verifier, callback.oauth_verifier);
  t.is(second.oauth_consumer_secret, callback.oauth_consumer_secret);
  t.is(store.admin.get(integration.id).tokens.length, 1);
});

test('the 4a trap: activate, request token, activate again -> new request token 401; old token + old verifier still finish', async (t) => {
  const store = await startStore(t);
  const receiver = await callbackReceiver(t);
  const { integration, callback: first } = await createAndActivate(store, receiver);
  const oldRequest = form((await requestToken(store.baseUrl, first)).body) as { oauth_token: string; oauth_token_secret: string };
  // The merchant closed the popup; later clicks Activate again.
  await store.admin.activate(integration.id);
  const second = receiver.received[1]!.fields;
  t.not(second.oauth_verifier, first.oauth_verifier, 'a new verifier row was added');
  t.deepEqual(store.admin.get(integration.id).tokens.map((x) => x.type), ['request', 'verifier']);

  const fresh = await requestToken(store.baseUrl, second);
  t.is(fresh.status, 401);
  t.is(problem(fresh), 'Cannot create request token because consumer token is not a verifier token');

  const withNewVerifier = await accessToken(store.baseUrl, second, oldRequest);
  t.is(problem(withNewVerifier), 'Token verifier and verifier token do not match');

  const finished = await accessToken(store.baseUrl, first, oldRequest);
  t.is(finished.status, 200);
  t.is(store.admin.get(integration.id).status, 'active');
  t.deepEqual(store.admin.get(integration.id).tokens.map((x) => x.type), ['access', 'verifier']);

  // The leftover verifier row is what the next Reauthorize posts again.
  await store.admin.reauthorize(integration.id);
  t.is(receiver.received[2]!.fields.oauth_verifier, second.oauth_verifier);
  t.is((await requestToken(store.baseUrl, receiver.received[2]!.fields)).status, 200);
});

test('the 4a trap is cleared by Magento\'s cleanup of request rows older than 120 minutes', async (t) => {
  const store = await startStore(t);
  const receiver = await callbackReceiver(t);
  const { integration, callback } = await createAndActivate(store, receiver);
  t.is((await requestToken(store.baseUrl, callback)).status, 200);
  store.knobs.advanceClock(119 * 60);
  t.is(store.knobs.runTokenCleanup(), 0);
  store.knobs.advanceClock(60);
  t.is(store.knobs.runTokenCleanup(), 1);
  await store.admin.activate(integration.id);
  t.is((await requestToken(store.baseUrl, receiver.received[1]!.fields)).status, 200);
});

test('Reauthorize kills the old access token at once (REST 401 "Specified token does not exist")', async (t) => {
  const store = await startStore(t);
  const receiver = await callbackReceiver(t);
  const { integration, creds, callback } = await fullyActivate(store, receiver);
  const url = `${store.baseUrl}rest/V1/customers/1`;
  t.is((await signed('GET', url, creds)).status, 200);

  await store.admin.reauthorize(integration.id);
  t.is(store.admin.get(integration.id).status, 'inactive');
  const after = await signed('GET', url, creds);
  t.is(after.status, 401);
  t.deepEqual(json(after), { message: 'Specified token does not exist' });

  const again = receiver.received[1]!.fields;
  t.is(again.oauth_consumer_key, callback.oauth_consumer_key);
  t.is(again.oauth_consumer_secret, callback.oauth_consumer_secret);
  t.not(again.oauth_verifier, callback.oauth_verifier);
});

test('Delete removes integration, consumer and tokens: REST 401 "A consumer having the specified key does not exist"', async (t) => {
  const store = await startStore(t);
  const { integration, creds } = await fullyActivate(store, await callbackReceiver(t));
  const del = await raw({ method: 'DELETE', url: `${store.adminUrl}api/integrations/${integration.id}` });
  t.is(del.status, 200);
  const res = await signed('GET', `${store.baseUrl}rest/V1/customers/1`, creds);
  t.is(res.status, 401);
  t.deepEqual(json(res), { message: 'A consumer having the specified key does not exist' });
  t.is((await raw({ method: 'GET', url: `${store.adminUrl}api/integrations/${integration.id}` })).status, 404);
});

test('callback target that redirects: the 302 counts as delivered, the redirect is not followed', async (t) => {
  const store = await startStore(t);
  const { target, redirector, result } = await activateThroughRedirect(t, store);
  t.deepEqual(result.callback, { ok: true, status: 302 });
  t.truthy(result.popupUrl);
  t.is(redirector.received.length, 1);
  t.is(target.received.length, 0);
});

test('callback target answering 500 still counts as delivered (Magento ignores status and body)', async (t) => {
  const store = await startStore(t);
  const receiver = await callbackReceiver(t);
  receiver.respond = (_req, res) => {
    res.statusCode = 500;
    res.end('boom');
  };
  const { result } = await createAndActivate(store, receiver);
  t.deepEqual(result.callback, { ok: true, status: 500 });
  t.truthy(result.popupUrl);
});

test('callback target that hangs: the POST times out (transport failure), no popup', async (t) => {
  const store = await startStore(t, { callbackTimeoutMs: 200 });
  const receiver = await callbackReceiver(t);
  receiver.respond = () => undefined;
  const integration = store.admin.create({ name: 'h', callbackUrl: receiver.url, identityLinkUrl: IDENTITY_URL });
  const result = await store.admin.activate(integration.id);
  t.is(result.popupUrl, null);
  t.false(result.callback!.ok);
  t.regex((result.callback as { error: string }).error, /timed out/);
});

test('callback target that refuses connections fails the activation', async (t) => {
  const store = await startStore(t);
  const integration = store.admin.create({ name: 'c', callbackUrl: 'http://127.0.0.1:1/cb', identityLinkUrl: IDENTITY_URL });
  const result = await store.admin.activate(integration.id);
  t.false(result.callback!.ok);
  t.regex((result.callback as { error: string }).error, /ECONNREFUSED/);
});

test('Magento\'s defaults: 5 s callback timeout, no redirects, 300 s window', async (t) => {
  const store = await startStore(t);
  t.deepEqual(store.config, { callbackTimeoutMs: 5000, callbackMaxRedirects: 0, consumerExpirationSeconds: 300, cleanupExpirationMinutes: 120 });
});

test('with post_maxredirects configured, redirects are followed (302 turns the POST into a GET)', async (t) => {
  const store = await startStore(t, { callbackMaxRedirects: 1 });
  const { target, result } = await activateThroughRedirect(t, store);
  t.deepEqual(result.callback, { ok: true, status: 200 });
  t.is(target.received.length, 0, 'the follow-up request was a GET, without the fields');
});

test('no Callback URL or no Identity Link URL: Magento issues the tokens itself, no callback', async (t) => {
  const store = await startStore(t);
  const integration = store.admin.create({ name: 'self' });
  const result = await store.admin.activate(integration.id);
  t.is(result.callback, null);
  t.is(result.popupUrl, null);
  t.regex(result.tokens!.accessToken, KEY);
  t.is(store.admin.get(integration.id).status, 'active');
  const res = await signed('GET', `${store.baseUrl}rest/V1/customers/1`, {
    consumerKey: result.tokens!.consumerKey,
    consumerSecret: result.tokens!.consumerSecret,
    token: result.tokens!.accessToken,
    tokenSecret: result.tokens!.accessTokenSecret,
  });
  t.is(res.status, 200);
});
