// The merchant's account page: sign in, see the connected store and its state, the two URLs to paste into Magento,
// create an API key (shown once) that works on the API, revoke it; every form checks its CSRF token.
import { activatedStore, callApi, connectStore, startCapturingMockStore } from '../helpers/activated.js';
import { Browser, hiddenFields, waitFor } from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';

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
    t.true(page.text.includes(`id="callback-url" type="text" readonly value="${url}/magento/callback"`));
    t.true(page.text.includes(`id="identity-url" type="text" readonly value="${url}/magento/identity"`));
    t.false(NEW_KEY.test(page.text), 'no key is shown unless just created');

    const csrf = hiddenFields(page.text).csrf!;
    t.truthy(csrf);
    const created = await browser.post(`${url}/account/api-keys`, { csrf, name: 'CRM <sync> & co' });
    t.is(created.status, 201, created.text.slice(0, 300));
    const key = NEW_KEY.exec(created.text)?.[1];
    t.truthy(key, 'the new key is on the page');
    t.true(created.text.includes('CRM &lt;sync&gt; &amp; co'), 'the name is escaped');
    t.false(created.text.includes('CRM <sync>'));

    const list = await callApi(`${url}/api/stores`, 'GET', key!);
    t.is(list.status, 200);
    t.deepEqual((list.json as { stores: { id: string }[] }).stores.map((s) => s.id), [a.storeId]);
    t.is((await callApi(`${a.restUrl}V1/products/24-MB01`, 'GET', key!)).status, 200);

    const again = await browser.get(`${url}/account`);
    t.false(again.text.includes(key!), 'shown once: the page never shows it again');
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

    const revoked = await browser.post(`${url}/account/api-keys/${record.id}/revoke`, { csrf: hiddenFields(again.text).csrf! });
    t.is(revoked.status, 200);
    t.regex(revoked.text, /The key is revoked/);
    t.regex(revoked.text, /<span class="muted">revoked<\/span>/);
    const refused = await callApi(`${url}/api/stores`, 'GET', key!);
    t.is(refused.status, 401);
    t.is(refused.headers.get('x-connector-error'), 'unauthorized');
    t.is((await callApi(`${url}/api/stores`, 'GET', a.apiKey)).status, 200, 'the other key is untouched');

    const out = await browser.post(`${url}/account/logout`, { csrf: hiddenFields(revoked.text).csrf! });
    t.is(out.status, 302);
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
      ['a wrong token', { name: 'x', csrf: 'A'.repeat(43) }],
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
});
