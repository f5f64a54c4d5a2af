// The merchant's account page: sign in, see the connected store and its state, the two URLs to paste into Magento,
// create an API key (shown once, after a redirect: a reload creates nothing) that works on the API, revoke it,
// disconnect a store (after a confirmation); every form checks its CSRF token; a GET of a form's URL is a page.
import { activatedStore, callApi, connectStore, startCapturingMockStore } from '../helpers/activated.js';
import { Browser, hiddenFields, waitFor } from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';

/** The token with its last character changed: never equal to the real one. */
const flipLast = (token: string) => token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');

const NEW_KEY = /<code id="new-key">(mck_[A-Za-z0-9_-]+)<\/code>/;

forEachBackend((backend, test) => {
  test('sign in, see the store, the Callback and Identity Link URLs; create a key (shown once), use it, revoke it', async (t) => {
    const a = await activatedStore(backend, t);
    const url = a.connector.url;
    const browser = new Browser();

    const anonymous = await browser.get(`${url}/account`);
    t.is(anonymous.status, 302);
    t.is(anonymous.location, '/account/login');

    const login = await browser.get(`${url}/account/login`);
    t.is(login.status, 200);
    const signedIn = await browser.post(`${url}/account/login`, { ...hiddenFields(login.text), email: a.email.toUpperCase(), password: a.password });
    t.is(signedIn.status, 302, signedIn.text.slice(0, 300));
    t.is(signedIn.location, '/account');

    const page = await browser.get(`${url}/account`);
    t.is(page.status, 200);
    t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
    t.is(page.headers.get('cache-control'), 'no-store');
    t.true(page.text.includes(a.email));
    t.regex(page.text, new RegExp(`<td class="store">${a.mock.baseUrl.replace(/[.]/g, '\\.')}</td>\\s*<td>active</td>`));
    t.true(page.text.includes(a.storeId));
    // The account's own URLs (issue 13), the ones the store's integration was saved with.
    const own = await a.connector.running.services.activation.activationUrls(a.accountId, url);
    t.regex(own.callbackUrl, /\/magento\/callback\/[A-Za-z0-9_-]{43}$/);
    t.true(page.text.includes(`id="callback-url" type="text" readonly value="${own.callbackUrl}"`));
    t.true(page.text.includes(`id="identity-url" type="text" readonly value="${own.identityLinkUrl}"`));
    t.false(NEW_KEY.test(page.text), 'no key is shown unless just created');

    const csrf = hiddenFields(page.text).csrf!;
    t.truthy(csrf);
    const posted = await browser.post(`${url}/account/api-keys`, { csrf, name: 'CRM <sync> & co' });
    t.is(posted.status, 303, posted.text.slice(0, 300));
    t.is(posted.location, '/account');
    t.false(NEW_KEY.test(posted.text), 'the POST answer itself carries no key');
    const created = await browser.get(`${url}/account`);
    t.is(created.status, 200);
    const key = NEW_KEY.exec(created.text)?.[1];
    t.truthy(key, 'the new key is on the page');
    t.true(created.text.includes('CRM &lt;sync&gt; &amp; co'), 'the name is escaped');
    t.false(created.text.includes('CRM <sync>'));

    const list = await callApi(`${url}/api/stores`, 'GET', key!);
    t.is(list.status, 200);
    t.deepEqual((list.json as { stores: { id: string }[] }).stores.map((s) => s.id), [a.storeId]);
    t.is((await callApi(`${a.restUrl}V1/products/24-MB01`, 'GET', key!)).status, 200);

    const again = await browser.get(`${url}/account`);
    t.false(again.text.includes(key!), 'shown once: a reload does not show it again');
    t.is((await a.connector.running.services.accounts.listApiKeys(a.accountId)).length, 2, 'and a reload created no other key');
    t.true(again.text.includes(`${key!.slice(0, 10)}…`), 'only its prefix');
    const stored = await a.connector.running.services.storage.apiKeys.listByAccount(a.accountId);
    const record = stored.find((k) => key!.startsWith(k.prefix) && k.name === 'CRM <sync> & co')!;
    t.truthy(record);
    t.false(JSON.stringify(stored).includes(key!), 'only a hash is stored');
    // Its use is recorded off the request's path (once per cache TTL): wait for the write rather than race it.
    await waitFor('the key\'s use to be recorded', async () =>
      (await a.connector.running.services.storage.apiKeys.listByAccount(a.accountId)).find((k) => k.id === record.id)?.lastUsedAt,
    );
    const withUse = await browser.get(`${url}/account`);
    t.regex(withUse.text, new RegExp(`<td><time datetime="[^"]+">[^<]+ UTC</time></td>\\s*<td>\\s*<form method="post" action="/account/api-keys/${record.id}/revoke"`), '"last used" shown');

    const revoking = await browser.post(`${url}/account/api-keys/${record.id}/revoke`, { csrf: hiddenFields(again.text).csrf! });
    t.is(revoking.status, 303);
    t.is(revoking.location, '/account');
    const revoked = await browser.get(`${url}/account`);
    t.regex(revoked.text, /The key is revoked/);
    t.regex(revoked.text, /<span class="muted">revoked<\/span>/);
    const refused = await callApi(`${url}/api/stores`, 'GET', key!);
    t.is(refused.status, 401);
    t.is(refused.headers.get('x-connector-error'), 'unauthorized');
    t.is((await callApi(`${url}/api/stores`, 'GET', a.apiKey)).status, 200, 'the other key is untouched');

    t.notRegex((await browser.get(`${url}/account`)).text, /The key is revoked/, 'the notice is shown once');

    const out = await browser.post(`${url}/account/logout`, { csrf: hiddenFields(revoked.text).csrf! });
    t.is(out.status, 303);
    t.is((await browser.get(`${url}/account`)).status, 302, 'signed out');
  });

  test('CSRF: forms without the token, with a wrong one or from another browser are refused and change nothing', async (t) => {
    const a = await activatedStore(backend, t);
    const url = a.connector.url;
    const keys = () => a.connector.running.services.storage.apiKeys.listByAccount(a.accountId);
    const page = await a.browser.get(`${url}/account`);
    t.is(page.status, 200, 'the popup left the merchant signed in');
    const csrf = hiddenFields(page.text).csrf!;
    const keyId = (await keys())[0]!.id;

    const intruder = new Browser();
    const foreignCsrf = hiddenFields((await intruder.get(`${url}/account/login`)).text).csrf!;

    for (const [what, form] of [
      ['no token', { name: 'x' }],
      ['a wrong token', { name: 'x', csrf: flipLast(csrf) }],
      ["another browser's token", { name: 'x', csrf: foreignCsrf }],
    ] as const) {
      const res = await a.browser.post(`${url}/account/api-keys`, form);
      t.is(res.status, 403, what);
      t.regex(res.text, /This form expired/);
      const revoke = await a.browser.post(`${url}/account/api-keys/${keyId}/revoke`, form);
      t.is(revoke.status, 403, what);
    }
    const stillThere = await keys();
    t.is(stillThere.length, 1, 'no key created');
    t.is(stillThere[0]!.revokedAt, null, 'no key revoked');
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200);

    const noCsrfLogin = await intruder.post(`${url}/account/login`, { email: a.email, password: a.password });
    t.is(noCsrfLogin.status, 403);
    t.false(intruder.cookies.has('mc_session'));
    t.is((await a.browser.post(`${url}/account/logout`, {})).status, 403, 'logout needs the token too');
    t.is((await a.browser.get(`${url}/account`)).status, 200, 'still signed in');

    // A signed-out browser with a valid token: the session is what is missing.
    const noSession = await intruder.post(`${url}/account/api-keys`, { name: 'x', csrf: foreignCsrf });
    t.is(noSession.status, 401);
    t.is((await keys()).length, 1);

    // A merchant cannot revoke another account's key, even with a valid token.
    const otherMock = await startCapturingMockStore(t);
    const b = await connectStore(a.connector, otherMock);
    const bCsrf = hiddenFields((await b.browser.get(`${url}/account`)).text).csrf!;
    const cross = await b.browser.post(`${url}/account/api-keys/${keyId}/revoke`, { csrf: bCsrf });
    t.is(cross.status, 404);
    t.is((await keys())[0]!.revokedAt, null);
    t.false((await b.browser.get(`${url}/account`)).text.includes(a.storeId), "B's page does not show A's store");
  });

  test('disconnecting a store: a confirmation page, then the same deletion as DELETE /api/stores/:id', async (t) => {
    const a = await activatedStore(backend, t);
    const url = a.connector.url;
    const page = await a.browser.get(`${url}/account`);
    t.regex(page.text, new RegExp(`<a class="button secondary" href="/account/stores/${a.storeId}/disconnect"`));

    const confirm = await a.browser.get(`${url}/account/stores/${a.storeId}/disconnect`);
    t.is(confirm.status, 200);
    t.regex(confirm.text, /<h1>Disconnect this store\?<\/h1>/);
    t.true(confirm.text.includes(a.mock.baseUrl));
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200, 'looking at the confirmation changes nothing');

    // Without the form's token nothing happens.
    t.is((await a.browser.post(`${url}/account/stores/${a.storeId}/disconnect`, {})).status, 403);
    t.is((await callApi(`${url}/api/stores`, 'GET', a.apiKey)).status, 200);
    t.is(((await callApi(`${url}/api/stores`, 'GET', a.apiKey)).json as { stores: unknown[] }).stores.length, 1);

    // Another account cannot disconnect it, and cannot see that it exists.
    const otherMock = await startCapturingMockStore(t);
    const b = await connectStore(a.connector, otherMock);
    const foreign = await b.browser.get(`${url}/account/stores/${a.storeId}/disconnect`);
    t.is(foreign.status, 404);
    t.regex(foreign.headers.get('content-type') ?? '', /^text\/html/);
    t.regex(foreign.text, /No store with this id belongs to your account/);
    const bCsrf = hiddenFields((await b.browser.get(`${url}/account`)).text).csrf!;
    t.is((await b.browser.post(`${url}/account/stores/${a.storeId}/disconnect`, { csrf: bCsrf })).status, 404);

    const done = await a.browser.post(`${url}/account/stores/${a.storeId}/disconnect`, { csrf: hiddenFields(confirm.text).csrf! });
    t.is(done.status, 303);
    t.is(done.location, '/account');
    const after = await a.browser.get(`${url}/account`);
    t.true(after.text.includes(`${a.mock.baseUrl} is disconnected`));
    t.regex(after.text, /No store is connected yet/);
    const gone = await callApi(`${url}/api/stores/${a.storeId}`, 'GET', a.apiKey);
    t.is(gone.status, 404);
    t.is(gone.headers.get('x-connector-error'), 'store_not_found');
    t.deepEqual((await callApi(`${url}/api/stores`, 'GET', a.apiKey)).json, { stores: [] });
    t.is(await a.connector.binding(a.consumerKey), null, 'the binding and its tokens are gone');
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 404, 'the proxy no longer reaches the store');
  });

  test('a GET of a form\'s address and an unknown page are pages, not plain text', async (t) => {
    const a = await activatedStore(backend, t);
    const url = a.connector.url;
    for (const [path, status, text] of [
      ['/account/api-keys', 405, /This address is for a form/],
      ['/account/logout', 405, /This address is for a form/],
      ['/account/api-keys/x/revoke', 405, /This address is for a form/],
      ['/magento/identity/login', 405, /This address is for a form/],
      ['/nothing/here', 404, /There is no page at this address/],
      ['/account/nothing', 404, /There is no page at this address/],
      ['/assets/nothing.js', 404, /There is no page at this address/],
    ] as const) {
      const res = await a.browser.get(`${url}${path}`);
      t.is(res.status, status, path);
      t.regex(res.headers.get('content-type') ?? '', /^text\/html/, path);
      t.regex(res.text, text, path);
      t.regex(res.text, /<a href="\/account">Go to your account page<\/a>|Close this window/, `${path}: a way on`);
      t.is(res.headers.get('x-connector-error'), null, path);
      t.notRegex(res.text, /"error":/, path);
    }
  });
});
