// Magento's request-token and access-token rules, each shown over real HTTP with exact status and oauth_problem.
import test from 'ava';
import { OffsetClock } from '../../src/clock.js';
import { accessToken, type Callback, callbackReceiver, createAndActivate, form, problem, raw, requestToken, startStore } from './helpers.js';
import { freshNonce, sign } from './signer.js';

/** A request token fetched with the callback's credentials (the mock answers it as a form). */
async function heldRequestToken(baseUrl: string, callback: Callback): Promise<{ oauth_token: string; oauth_token_secret: string }> {
  return form((await requestToken(baseUrl, callback)).body) as { oauth_token: string; oauth_token_secret: string };
}

const TOKEN_PAIR = /^oauth_token=[0-9a-z]{32}&oauth_token_secret=[0-9a-z]{32}$/;

test('request token: HMAC-SHA256 signed from the header -> 200 text/html token pair', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const res = await requestToken(store.baseUrl, callback);
  t.is(res.status, 200);
  t.regex(res.body, TOKEN_PAIR);
  t.is(res.headers['content-type'], 'text/html; charset=UTF-8');
});

test('HMAC-SHA1 is refused with 400 "Signature method HMAC-SHA1 is not supported"', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const res = await requestToken(store.baseUrl, callback, { signatureMethod: 'HMAC-SHA1' });
  t.is(res.status, 400);
  t.is(res.body, 'oauth_problem=Signature+method+HMAC-SHA1+is+not+supported');
});

test('a reused nonce is refused 401, and a request that failed its signature check burnt its nonce', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const nonce = freshNonce();
  const bad = await requestToken(store.baseUrl, callback, { nonce, signedHost: 'elsewhere.example' });
  t.is(bad.status, 401);
  t.is(problem(bad), 'The signature is invalid. Verify and try again.');

  const retry = await requestToken(store.baseUrl, callback, { nonce });
  t.is(retry.status, 401);
  const consumerId = store.tables.consumerByKey(callback.oauth_consumer_key)!.id;
  t.is(problem(retry), `The nonce is already being used by the consumer with ID ${consumerId}`);

  const fresh = await requestToken(store.baseUrl, callback);
  t.is(fresh.status, 200, 'the verifier was not consumed by the failed attempts');
});

test('nonces compare like MySQL: case-insensitive, and only 32 characters are stored', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const first = await requestToken(store.baseUrl, callback, { nonce: 'abcdef0123456789abcdef0123456789', signedHost: 'x.example' });
  t.is(first.status, 401);
  const upper = await requestToken(store.baseUrl, callback, { nonce: 'ABCDEF0123456789ABCDEF0123456789' });
  t.regex(problem(upper) ?? '', /^The nonce is already being used/);
  // 33 characters: truncated to the stored 32 on insert, which collides with the first nonce.
  const long = await requestToken(store.baseUrl, callback, { nonce: 'abcdef0123456789abcdef0123456789X' });
  t.is(long.status, 401);
  t.is(problem(long), 'An error occurred validating the nonce');
});

test('a timestamp more than 600 s in the mock clock\'s future, or 0, is refused (401 via the nonce validator)', async (t) => {
  const frozen = new Date();
  const store = await startStore(t, { clock: new OffsetClock({ now: () => frozen }) });
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const now = Math.floor(frozen.getTime() / 1000);

  const future = await requestToken(store.baseUrl, callback, { timestamp: now + 601 });
  t.is(future.status, 401);
  t.is(problem(future), 'An error occurred validating the nonce');

  const zero = await requestToken(store.baseUrl, callback, { timestamp: 0 });
  t.is(zero.status, 401);
  t.is(problem(zero), 'An error occurred validating the nonce');

  const edge = await requestToken(store.baseUrl, callback, { timestamp: now + 600, signedHost: 'x.example' });
  t.is(problem(edge), 'The signature is invalid. Verify and try again.', 'exactly 600 s ahead passes the timestamp check');

  const ancient = await requestToken(store.baseUrl, callback, { timestamp: 1 });
  t.is(ancient.status, 200, 'no lower bound: any positive past timestamp passes');
});

test('the timestamp check comes before the nonce is stored: a refused timestamp does not burn the nonce', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const nonce = freshNonce();
  t.is((await requestToken(store.baseUrl, callback, { nonce, timestamp: 0 })).status, 401);
  t.is((await requestToken(store.baseUrl, callback, { nonce })).status, 200);
});

test('a second request token for the same verifier is refused 401 "not a verifier token"', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  t.is((await requestToken(store.baseUrl, callback)).status, 200);
  const again = await requestToken(store.baseUrl, callback);
  t.is(again.status, 401);
  t.is(again.body, 'oauth_problem=Cannot+create+request+token+because+consumer+token+is+not+a+verifier+token');
});

test('the request token must come within 300 s of the callback POST (advance the clock 301 s)', async (t) => {
  const store = await startStore(t);
  const receiver = await callbackReceiver(t);
  const { callback } = await createAndActivate(store, receiver);
  store.knobs.advanceClock(301);
  const late = await requestToken(store.baseUrl, callback);
  t.is(late.status, 401);
  t.is(problem(late), 'Consumer key has expired');

  // A new Activate restarts the window (the consumer's updated_at is set when the callback starts).
  const integrationId = store.admin.list()[0]!.id;
  await store.admin.activate(integrationId);
  const again = await requestToken(store.baseUrl, receiver.received.at(-1)!.fields);
  t.is(again.status, 200);
});

test('299 s after the callback is still inside the window; the window is checked before the signature', async (t) => {
  // A clock that does not run by itself, so only the advances below count (whole seconds, like Magento).
  const frozen = new Date();
  const store = await startStore(t, { clock: new OffsetClock({ now: () => frozen }) });
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  store.knobs.advanceClock(299);
  const expiredButBadSig = await requestToken(store.baseUrl, callback, { signedHost: 'x.example' });
  t.is(problem(expiredButBadSig), 'The signature is invalid. Verify and try again.');
  store.knobs.advanceClock(2);
  const badSigAfter = await requestToken(store.baseUrl, callback, { signedHost: 'x.example' });
  t.is(problem(badSigAfter), 'Consumer key has expired');
});

test('the access token call is not subject to the 300 s window', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const request = await heldRequestToken(store.baseUrl, callback);
  store.knobs.advanceClock(3600);
  const res = await accessToken(store.baseUrl, callback, request);
  t.is(res.status, 200);
  t.regex(res.body, TOKEN_PAIR);
});

test('OAuth parameters come only from the header: a verifier only in the body is ignored (400 required)', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const request = await heldRequestToken(store.baseUrl, callback);
  const url = `${store.baseUrl}oauth/token/access`;
  const s = sign({
    method: 'POST',
    url,
    consumerKey: callback.oauth_consumer_key,
    consumerSecret: callback.oauth_consumer_secret,
    token: request.oauth_token,
    tokenSecret: request.oauth_token_secret,
  });
  const res = await raw({
    method: 'POST',
    url,
    headers: { Authorization: s.authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `oauth_verifier=${callback.oauth_verifier}`,
  });
  t.is(res.status, 400);
  t.is(problem(res), '"oauth_verifier" is required. Enter and try again.');
});

test('no OAuth header at all: 400 listing every missing parameter', async (t) => {
  const store = await startStore(t);
  const res = await raw({ method: 'POST', url: `${store.baseUrl}oauth/token/request` });
  t.is(res.status, 400);
  t.is(
    problem(res),
    '"oauth_consumer_key" is required. Enter and try again, "oauth_signature" is required. Enter and try again, ' +
      '"oauth_signature_method" is required. Enter and try again, "oauth_nonce" is required. Enter and try again, ' +
      '"oauth_timestamp" is required. Enter and try again',
  );
});

test('a bad signature is refused 401 "The signature is invalid. Verify and try again."', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const res = await requestToken(store.baseUrl, callback, { signedHost: '127.0.0.1:1' });
  t.is(res.status, 401);
  t.is(res.body, 'oauth_problem=The+signature+is+invalid.+Verify+and+try+again.');
  const wrongSecret = await requestToken(store.baseUrl, { ...callback, oauth_consumer_secret: 'x'.repeat(32) });
  t.is(problem(wrongSecret), 'The signature is invalid. Verify and try again.');
});

test('the request-token key is enc(consumer_secret)& and oauth_version, if sent, must be 1.0', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const v2 = await requestToken(store.baseUrl, callback, { version: '2.0' });
  t.is(v2.status, 400);
  t.is(problem(v2), 'The "2.0" Oauth version isn\'t supported.');
  const none = await requestToken(store.baseUrl, callback, { version: null });
  t.is(none.status, 200, 'oauth_version is optional');
});

test('unknown or malformed consumer keys: 401 with Magento\'s messages', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const short = await requestToken(store.baseUrl, { ...callback, oauth_consumer_key: 'abc' });
  t.is(problem(short), 'Consumer key is not the correct length');
  const unknown = await requestToken(store.baseUrl, { ...callback, oauth_consumer_key: '0'.repeat(32) });
  t.is(unknown.status, 401);
  t.is(problem(unknown), 'A consumer having the specified key does not exist');
});

test('access token: unknown token, wrong verifier, reused request token', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const request = await heldRequestToken(store.baseUrl, callback);

  const unknown = await accessToken(store.baseUrl, callback, { ...request, oauth_token: 'z'.repeat(32) });
  t.is(unknown.status, 401);
  t.is(problem(unknown), 'Specified token does not exist');

  const shortToken = await accessToken(store.baseUrl, callback, { ...request, oauth_token: 'abc' });
  t.is(shortToken.status, 400);
  t.is(problem(shortToken), 'The token length is invalid. Check the length and try again.');

  const wrongVerifier = await accessToken(store.baseUrl, { ...callback, oauth_verifier: 'v'.repeat(32) }, request);
  t.is(problem(wrongVerifier), 'Token verifier and verifier token do not match');

  const shortVerifier = await accessToken(store.baseUrl, { ...callback, oauth_verifier: 'v' }, request);
  t.is(problem(shortVerifier), 'Verifier is not the correct length');

  const badSig = await accessToken(store.baseUrl, callback, { ...request, oauth_token_secret: 's'.repeat(32) });
  t.is(problem(badSig), 'The signature is invalid. Verify and try again.');

  t.is((await accessToken(store.baseUrl, callback, request)).status, 200);
  t.is(store.admin.list()[0]!.status, 'active');

  const reused = await accessToken(store.baseUrl, callback, request);
  t.is(reused.status, 401);
  t.is(problem(reused), 'Specified token does not exist', 'the request token was replaced by the access token');
});

test('presenting the access token to the access endpoint: "Token is already being used"', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const request = await heldRequestToken(store.baseUrl, callback);
  const access = form((await accessToken(store.baseUrl, callback, request)).body) as { oauth_token: string; oauth_token_secret: string };
  const res = await accessToken(store.baseUrl, callback, access);
  t.is(res.status, 401);
  t.is(problem(res), 'Token is already being used');
});

test('a verifier arriving as an array (form body, header without oauth_ pairs) is "Verifier is invalid"', async (t) => {
  // The only way Magento reads protocol parameters from the body: an `OAuth` header carrying none of them.
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const request = await heldRequestToken(store.baseUrl, callback);
  const body = new URLSearchParams({
    oauth_consumer_key: callback.oauth_consumer_key,
    oauth_signature: 'x',
    oauth_signature_method: 'HMAC-SHA256',
    oauth_nonce: freshNonce(),
    oauth_timestamp: String(Math.floor(Date.now() / 1000)),
    oauth_token: request.oauth_token,
  }).toString();
  const res = await raw({
    method: 'POST',
    url: `${store.baseUrl}oauth/token/access`,
    headers: { Authorization: 'OAuth realm="x"', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `${body}&oauth_verifier[]=${callback.oauth_verifier}`,
  });
  t.is(res.status, 401);
  t.is(problem(res), 'Verifier is invalid');
});

test('realm is ignored, parameter values are percent-decoded and quotes optional', async (t) => {
  const store = await startStore(t);
  const { callback } = await createAndActivate(store, await callbackReceiver(t));
  const url = `${store.baseUrl}oauth/token/request`;
  const s = sign({ method: 'POST', url, consumerKey: callback.oauth_consumer_key, consumerSecret: callback.oauth_consumer_secret });
  const unquoted = Object.entries(s.oauth)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join(', ');
  const res = await raw({ method: 'POST', url, headers: { Authorization: `OAuth realm="Magento", ${unquoted}` } });
  t.is(res.status, 200, res.body);
});

test('the verifier row is made before the callback POST: a callback that never answers still allows the exchange', async (t) => {
  const store = await startStore(t, { callbackTimeoutMs: 300 });
  const receiver = await callbackReceiver(t);
  receiver.respond = () => undefined; // never answers
  const integration = store.admin.create({ name: 'slow', callbackUrl: receiver.url, identityLinkUrl: 'https://c.example/id' });
  const result = await store.admin.activate(integration.id);
  t.false(result.callback!.ok);
  t.is(result.popupUrl, null);
  const res = await requestToken(store.baseUrl, receiver.received[0]!.fields);
  t.is(res.status, 200);
});
