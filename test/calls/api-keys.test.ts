// API-key authentication: a missing, malformed, wrong or revoked key is a 401 with WWW-Authenticate and our error
// shape; a key revoked on the account page stops at once on that instance, and everywhere within the cache TTL.
import type { ExecutionContext } from 'ava';
import { activatedStore, callApi, type ApiResponse } from '../helpers/activated.js';
import { hiddenFields, startConnector } from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';

function unauthorized(t: ExecutionContext, res: ApiResponse, message: RegExp, what: string): void {
  t.is(res.status, 401, what);
  t.is(res.headers.get('www-authenticate'), 'Bearer realm="magento-connector"', what);
  t.is(res.headers.get('x-connector-error'), 'unauthorized', what);
  t.truthy(res.headers.get('x-request-id'));
  const body = res.json as { error: { code: string; message: string } };
  t.is(body.error.code, 'unauthorized');
  t.regex(body.error.message, message, what);
}

/** The id of the account's key whose prefix starts `key`, from the account page. */
async function revokeOnAccountPage(t: ExecutionContext, url: string, browser: import('../helpers/connector.js').Browser, key: string, keyId: string) {
  const page = await browser.get(`${url}/account`);
  t.is(page.status, 200);
  t.true(page.text.includes(`${key.slice(0, 10)}…`), 'the page shows the key by its prefix');
  t.false(page.text.includes(key), 'never the whole key');
  const csrf = hiddenFields(page.text).csrf!;
  const revoking = await browser.post(`${url}/account/api-keys/${keyId}/revoke`, { csrf });
  t.is(revoking.status, 303, revoking.text.slice(0, 300));
  t.regex((await browser.get(`${url}/account`)).text, /The key is revoked/);
}

forEachBackend((backend, test) => {
  test('a missing, malformed or wrong key is a 401 with WWW-Authenticate; nothing reaches the store', async (t) => {
    const a = await activatedStore(backend, t);
    a.mock.knobs.clearRequests();
    const url = `${a.restUrl}V1/products/24-MB01`;
    unauthorized(t, await callApi(url, 'GET', null), /Authorization: Bearer <key>/, 'no header');
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', `Bearer ${a.apiKey} extra`, a.apiKey, `OAuth ${a.apiKey}`]) {
      unauthorized(t, await callApi(url, 'GET', null, { headers: { authorization: header } }), /Authorization: Bearer <key>/, header);
    }
    for (const key of ['mck_wrong', `${a.apiKey}x`, a.apiKey.slice(0, -1), 'x'.repeat(300)]) {
      unauthorized(t, await callApi(url, 'GET', key), /not valid/, key.slice(0, 20));
    }
    unauthorized(t, await callApi(`${a.connector.url}/api/stores`, 'GET', 'mck_wrong'), /not valid/, 'the list');
    unauthorized(t, await callApi(`${a.connector.url}/api/stores/${a.storeId}`, 'DELETE', null), /Bearer/, 'DELETE');
    t.is(a.mock.knobs.requests().length, 0);
    t.truthy(await a.connector.binding(a.consumerKey), 'the unauthenticated DELETE did nothing');

    // The scheme is case-insensitive, as HTTP says.
    t.is((await callApi(url, 'GET', null, { headers: { authorization: `bearer ${a.apiKey}` } })).status, 200);
  });

  test('a key revoked on the account page stops at once on this instance and within the cache TTL on another', async (t) => {
    const a = await activatedStore(backend, t, { connector: { limits: { cacheTtlMs: 1_000 } } });
    // A second instance on the same database, with its own key cache.
    const other = await startConnector(backend, t, {
      databaseUrl: a.connector.databaseUrl,
      secretsKey: a.connector.config.secretsKey,
      limits: { cacheTtlMs: 1_000 },
    });
    const viaOther = () => callApi(`${other.url}/api/stores/${a.storeId}/rest/V1/products/24-MB01`, 'GET', a.apiKey);
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200);
    t.is((await viaOther()).status, 200, 'the other instance has the key cached now');

    const keyId = (await a.connector.running.services.storage.apiKeys.listByAccount(a.accountId))[0]!.id;
    await revokeOnAccountPage(t, a.connector.url, a.browser, a.apiKey, keyId);
    unauthorized(t, await a.api('GET', 'V1/products/24-MB01'), /not valid/, 'same instance, at once');

    other.clock.advance(1_001);
    unauthorized(t, await viaOther(), /not valid/, 'other instance, after its cache TTL');

    const stored = await a.connector.running.services.storage.apiKeys.listByAccount(a.accountId);
    t.truthy(stored[0]!.revokedAt);
  });

  test('a key revoked in storage (another instance, the CLI) stops working once the cache TTL has passed', async (t) => {
    const a = await activatedStore(backend, t, { connector: { limits: { cacheTtlMs: 1_000 } } });
    const s = a.connector.running.services;
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200);
    const key = (await s.storage.apiKeys.listByAccount(a.accountId))[0]!;
    t.truthy(await s.storage.apiKeys.revoke(key.id, a.accountId, s.clock.now()));
    a.connector.clock.advance(1_001);
    unauthorized(t, await a.api('GET', 'V1/products/24-MB01'), /not valid/, 'after the TTL');
    unauthorized(t, await callApi(`${a.connector.url}/api/stores`, 'GET', a.apiKey), /not valid/, 'the list too');

    // Another key of the same account still works.
    const { key: fresh } = await s.accounts.createApiKey(a.accountId, 'second');
    t.is((await a.api('GET', 'V1/products/24-MB01', { key: fresh })).status, 200);
  });
});
