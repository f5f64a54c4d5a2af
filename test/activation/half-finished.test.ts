// Activations that stop half-way: abandoned after the request token (docs/magento-protocol.md §4a), a store that stays
// unreachable until Magento's window has closed, and a request-token answer lost on the way back.
import { FIX_TEXT } from '../../src/activation/fixes.js';
import { forEachBackend } from '../helpers/db.js';
import {
  Browser,
  createAndActivate,
  decodeHtml,
  finishInPopup,
  MERCHANT,
  popupBase,
  hiddenFields,
  PASSWORD,
  settle,
  storeAndConnector,
  tokenCalls,
  waitFor,
  waitForState,
} from '../helpers/connector.js';



forEachBackend((backend, test) => {
  test('abandoned after the request token, then Activate again: the new request-token call fails 401, the kept token + old verifier connect', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { integrationId, consumerKey } = await createAndActivate(mock, connector);
    const first = await waitForState(connector, consumerKey, 'request_token');
    const oldVerifier = mock.admin.get(integrationId).tokens[0]!.verifier;
    t.is(first.requestToken?.verifier, oldVerifier);
    t.is(first.requestToken?.token, mock.admin.get(integrationId).tokens[0]!.token);

    // The merchant closed the popup; later clicks Activate again: Magento adds a second, verifier row (4a).
    const again = await mock.admin.activate(integrationId);
    t.deepEqual(again.callback, { ok: true, status: 200 });
    const rows = mock.admin.get(integrationId).tokens;
    t.deepEqual(rows.map((r) => r.type), ['request', 'verifier']);
    t.not(rows[1]!.verifier, oldVerifier);

    await settle(connector);
    const calls = tokenCalls(mock, 'request');
    t.deepEqual(calls.map((c) => c.status), [200, 401], 'the second request-token call was refused');
    const kept = await connector.binding(consumerKey);
    t.is(kept?.state, 'request_token');
    t.deepEqual(kept?.requestToken, first.requestToken, 'the old request token and its verifier are kept');
    t.is(kept?.verifier, null, 'the new verifier is dropped: it can never get a request token');
    t.is(kept?.step, null);
    t.is(kept?.nextAttemptAt, null, 'nothing left to resume');
    t.is(kept?.fix, null);

    const done = await finishInPopup(new Browser(), connector, again.popupUrl!, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 500));
    t.is(done.location, mock.successCallbackUrl);
    const active = await connector.binding(consumerKey);
    t.is(active?.state, 'active');
    t.is(active?.requestToken, null);
    const magento = mock.admin.get(integrationId);
    t.is(magento.status, 'active');
    t.deepEqual(magento.tokens.map((r) => r.type), ['access', 'verifier']);
    t.is(active?.accessToken?.token, magento.tokens[0]!.token);
    t.is(tokenCalls(mock, 'access').length, 1);
    const product = await connector.running.services.client(active!.accountId!).forStore(active!.id).get<{ sku: string }>('V1/products/24-MB01');
    t.is(product.sku, '24-MB01');
  });

  for (const fault of [
    { kind: 'fail', status: 503 },
    { kind: 'drop', phase: 'before' },
  ] as const) {
    test(`a store that stays unreachable (${fault.kind}) until the window closes: failed, check_store, no stray secrets; the popup says so`, async (t) => {
      const windowMs = 60_000;
      const { mock, connector } = await storeAndConnector(backend, t, { durations: { magentoWindowMs: windowMs, retryBaseDelayMs: 50, retryMaxDelayMs: 200 } });
      mock.knobs.addFault({ ...fault, pathPrefix: '/oauth/token/request', count: 1_000 });
      const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);

      // Retrying inside the window: still pending, the reason recorded. Then the window closes: our clock is moved
      // past it rather than waiting for a short one, so a slow first database connection cannot close it before
      // any attempt was made.
      const retrying = await waitFor('two failed attempts', async () => {
        const b = await connector.binding(consumerKey);
        return b && b.stepAttempts >= 2 && b.step === null && b.lastError ? b : undefined;
      });
      t.is(retrying.state, 'pending');
      t.truthy(retrying.verifier);
      t.is(retrying.fix, null);
      t.regex(retrying.lastError ?? '', /^Could not get a request token from the store: /);
      connector.clock.advance(windowMs);
      mock.knobs.advanceClock(windowMs / 1000);

      const failed = await waitForState(connector, consumerKey, 'failed');
      t.is(failed.fix, 'check_store');
      t.regex(failed.lastError ?? '', /^Could not get a request token from the store: /);
      t.is(failed.verifier, null);
      t.is(failed.requestToken, null);
      t.is(failed.accessToken, null);
      t.is(failed.accountId, (await connector.running.services.storage.accounts.byEmail(MERCHANT.email))!.id, 'the account whose URL it came through');
      t.is(failed.step, null);
      t.is(failed.nextAttemptAt, null);
      const attempts = tokenCalls(mock, 'request');
      t.true(attempts.length >= 2, `retried (${attempts.length} attempts)`);
      t.true(attempts.every((c) => c.fault === fault.kind));
      t.is(mock.admin.get(integrationId).status, 'inactive');

      // Nothing runs again on its own.
      await settle(connector);
      t.is(tokenCalls(mock, 'request').length, attempts.length);
      t.deepEqual(await connector.binding(consumerKey), failed);

      // The popup says so at once, with the fix, and offers no form that could only lead to the same page.
      const browser = new Browser();
      const page = await browser.get(popupUrl);
      t.is(page.status, 409);
      t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
      t.true(decodeHtml(page.text).includes(FIX_TEXT.check_store), page.text);
      t.regex(page.text, /The store could not be connected/);
      t.notRegex(page.text, /<form/);
      t.notRegex(page.text, /\bat \S+\.ts:\d+/, 'no stack trace');
      // A form opened before the failure, submitted after it, ends on the same page and changes nothing.
      const csrf = await browser.get(`${connector.url}/account/login`);
      const signIn = await browser.post(`${connector.url}${popupBase(popupUrl)}/login`, {
        csrf: hiddenFields(csrf.text).csrf!,
        oauth_consumer_key: consumerKey,
        success_call_back: mock.successCallbackUrl,
        email: MERCHANT.email,
        password: MERCHANT.password,
      });
      t.is(signIn.status, 409);
      t.true(decodeHtml(signIn.text).includes(FIX_TEXT.check_store), signIn.text);
      t.is(tokenCalls(mock, 'access').length, 0);
      t.deepEqual(await connector.binding(consumerKey), failed, 'the sign-in changed nothing');
    });
  }

  test('the store was briefly down when the callback came: the merchant signing in retries at once, without waiting out the backoff', async (t) => {
    // A long backoff, as after a few failures with the default delays: nothing retries on its own during the test.
    const { mock, connector } = await storeAndConnector(backend, t, { durations: { retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 } });
    mock.knobs.addFault({ kind: 'fail', status: 503, pathPrefix: '/oauth/token/request', count: 1 });
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);
    const backingOff = await waitFor('the first attempt to fail', async () => {
      const b = await connector.binding(consumerKey);
      return b?.lastError && b.step === null ? b : undefined;
    });
    t.is(backingOff.state, 'pending');
    t.true(backingOff.nextAttemptAt! > connector.clock.now());

    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 500));
    t.deepEqual(tokenCalls(mock, 'request').map((c) => c.status), [503, 200]);
    const active = await connector.binding(consumerKey);
    t.is(active?.state, 'active');
    t.is(active?.lastError, null);
    t.is(active?.nextAttemptAt, null);
    t.is(mock.admin.get(integrationId).status, 'active');
  });

  test('Activate clicked again while the store is down restarts the window (Magento reuses the verifier and restarts its own)', async (t) => {
    const windowMs = 60_000;
    const { mock, connector } = await storeAndConnector(backend, t, { durations: { magentoWindowMs: windowMs, retryBaseDelayMs: 50, retryMaxDelayMs: 200 } });
    const advance = (ms: number) => {
      connector.clock.advance(ms);
      mock.knobs.advanceClock(ms / 1000);
    };
    mock.knobs.addFault({ kind: 'fail', status: 503, pathPrefix: '/oauth/token/request', count: 1_000 });
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);
    const first = await waitFor('a failed attempt', async () => {
      const b = await connector.binding(consumerKey);
      return b?.lastError && b.step === null ? b : undefined;
    });

    advance(40_000);
    const again = await mock.admin.activate(integrationId);
    t.deepEqual(again.callback, { ok: true, status: 200 });
    t.is(mock.admin.get(integrationId).tokens[0]!.verifier, first.verifier!, 'Magento reused its unused verifier row');
    await settle(connector);
    const renewed = (await connector.binding(consumerKey))!;
    t.is(renewed.state, 'pending');
    t.true(renewed.callbackAt > first.callbackAt, 'our window restarts with Magento\'s');

    // 70 s after the first click, 30 s after the second: Magento still accepts the request-token call.
    advance(30_000);
    mock.knobs.clearFaults();
    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 500));
    t.is((await connector.binding(consumerKey))?.state, 'active');
    t.is(mock.admin.get(integrationId).status, 'active');
  });

  test('a lost request-token answer: the retry gets 401 not-a-verifier -> failed, recreate_integration; the popup says to delete and re-create', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    mock.knobs.addFault({ kind: 'drop', phase: 'after', pathPrefix: '/oauth/token/request', count: 1 });
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);

    const failed = await waitForState(connector, consumerKey, 'failed');
    t.deepEqual(tokenCalls(mock, 'request').map((c) => c.status), [null, 401]);
    t.deepEqual(mock.admin.get(integrationId).tokens.map((r) => r.type), ['request'], 'Magento issued the token we never got');
    t.is(failed.fix, 'recreate_integration');
    t.is(failed.lastError, 'Magento refused the request token: Cannot create request token because consumer token is not a verifier token');
    t.is(failed.verifier, null);
    t.is(failed.requestToken, null);
    t.is(failed.nextAttemptAt, null);
    t.is(failed.step, null);

    const page = await new Browser().get(popupUrl);
    t.is(page.status, 409);
    const text = decodeHtml(page.text);
    t.true(text.includes(FIX_TEXT.recreate_integration), page.text);
    t.regex(text, /delete this integration, create it again/);
    t.is(tokenCalls(mock, 'access').length, 0);
    t.is(mock.admin.get(integrationId).status, 'inactive');
  });

  test('the access-token answer was lost before Magento acted: asked again at once, the merchant connects on the first try', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);
    await waitForState(connector, consumerKey, 'request_token');
    mock.knobs.addFault({ kind: 'drop', phase: 'before', pathPrefix: '/oauth/token/access', count: 1 });

    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 300));
    t.is((await connector.binding(consumerKey))?.state, 'active');
    t.is(mock.admin.get(integrationId).status, 'active');
    t.deepEqual(tokenCalls(mock, 'access').map((c) => c.status), [null, 200]);
  });

  test('a lost access-token answer (Magento issued it, we never got it): asked again at once, refused, and the popup says to Reauthorize', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector);
    await waitForState(connector, consumerKey, 'request_token');
    mock.knobs.addFault({ kind: 'drop', phase: 'after', pathPrefix: '/oauth/token/access', count: 1 });

    // Asked again at once, Magento refuses (it converted the request token): the merchant learns the fix now.
    const browser = new Browser();
    const first = await finishInPopup(browser, connector, popupUrl, 'login', MERCHANT.email, MERCHANT.password);
    t.is(first.status, 409, first.text.slice(0, 300));
    t.true(decodeHtml(first.text).includes(FIX_TEXT.reauthorize), first.text);
    t.is(mock.admin.get(integrationId).status, 'active', 'Magento issued the token and shows Active');
    t.deepEqual(tokenCalls(mock, 'access').map((c) => c.status), [null, 401]);
    const failed = (await connector.binding(consumerKey))!;
    t.is(failed.state, 'failed');
    t.is(failed.fix, 'reauthorize');
    t.is(failed.lastError, 'Magento refused the access token: Specified token does not exist');
    t.is(failed.requestToken, null);
    t.is(failed.accessToken, null);
    // Issue 13: the shared popup's binding is claimed by the first account that tried to finish it, for good.
    t.is(failed.accountId, (await connector.running.services.storage.accounts.byEmail(MERCHANT.email))!.id);

    // Reauthorize (Magento offers it for an Active integration) starts over and connects.
    const reauth = await mock.admin.reauthorize(integrationId);
    const done = await finishInPopup(browser, connector, reauth.popupUrl!, 'login', MERCHANT.email, MERCHANT.password);
    t.is(done.status, 302, done.text.slice(0, 300));
    const active = (await connector.binding(consumerKey))!;
    t.is(active.state, 'active');
    t.is(active.accessToken?.token, mock.admin.get(integrationId).tokens[0]!.token);
  });
});
