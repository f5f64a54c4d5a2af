// Noticing that Magento killed the access token: the 401 that says so goes back to the caller unchanged, the
// binding becomes `revoked` (token forgotten), and later calls get our 409 store_revoked without reaching the store.
// A 401 for a resource the integration was not granted is not a revocation.
import { StoreNotActiveError } from '../../src/store-api/errors.js';
import { activatedStore, type ActivatedStore, ours } from '../helpers/activated.js';
import { Browser, finishInPopup, waitFor } from '../helpers/connector.js';
import { forEachBackend, rawQuery } from '../helpers/db.js';


const restCount = (a: ActivatedStore) => a.mock.knobs.requests().filter((r) => r.kind === 'rest').length;

async function bindingRow(a: ActivatedStore): Promise<Record<string, unknown>> {
  const rows = await rawQuery(
    a.connector.backend,
    a.connector.databaseUrl,
    `SELECT "state", "accessTokenSealed", "accessTokenSecretSealed", "revokedAt", "lastError", "fix" FROM "Binding" WHERE "id" = '${a.storeId}'`,
  );
  return rows[0]!;
}

forEachBackend((backend, test) => {
  test("integration deleted in Magento: Magento's 401 unchanged, then the binding is revoked and calls get 409", async (t) => {
    const a = await activatedStore(backend, t);
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200);

    a.mock.admin.delete(a.integrationId);
    const dead = await a.api('GET', 'V1/products/24-MB01');
    t.is(dead.status, 401);
    t.is(dead.headers.get('x-connector-error'), null, "Magento's answer, not ours");
    t.is(dead.headers.get('content-type'), 'application/json; charset=utf-8');
    t.is(dead.text, '{"message":"A consumer having the specified key does not exist"}');

    const row = await bindingRow(a);
    t.is(row.state, 'revoked');
    t.is(row.accessTokenSealed, null, 'the dead token is forgotten');
    t.is(row.accessTokenSecretSealed, null);
    t.truthy(row.revokedAt);
    t.is(row.lastError, 'Magento refused our access token: A consumer having the specified key does not exist');
    t.is(row.fix, 'reauthorize');

    const before = restCount(a);
    const later = await a.api('GET', 'V1/products/24-MB01');
    t.regex(ours(t, later, 409, 'store_revoked'), /Reauthorize/);
    const post = await a.api('POST', 'V1/products', { headers: { 'content-type': 'application/json' }, body: '{}' });
    ours(t, post, 409, 'store_revoked');
    t.is(restCount(a), before, 'nothing more is sent to the store');

    const view = await fetch(`${a.connector.url}/api/stores/${a.storeId}`, { headers: { authorization: `Bearer ${a.apiKey}` } });
    const store = (await view.json()) as { state: string; revokedAt: string | null; lastError: { message: string; fix: string | null } | null };
    t.is(store.state, 'revoked');
    t.truthy(store.revokedAt);
    t.regex(store.lastError?.message ?? '', /A consumer having the specified key does not exist/);
    t.truthy(store.lastError?.fix);

    // The TypeScript client sees the same state as a typed error.
    const client = a.connector.running.services.client(a.accountId).forStore(a.storeId);
    const err = await t.throwsAsync(client.get('V1/products/24-MB01'), { instanceOf: StoreNotActiveError });
    t.is(err?.code, 'store_revoked');
    t.is(err?.state, 'revoked');
  });

  test("Reauthorize in Magento (the old token is replaced): the old token's 401 revokes the binding", async (t) => {
    const a = await activatedStore(backend, t);
    // What a Reauthorize leaves behind for the connector's old token: Magento no longer knows it.
    const tokenRow = a.mock.tables.tokensOf(a.mock.tables.consumerByKey(a.consumerKey)!.id)[0]!;
    a.mock.tables.deleteToken(tokenRow);
    const dead = await a.api('GET', 'V1/customers/1');
    t.is(dead.status, 401);
    t.is(dead.text, '{"message":"Specified token does not exist"}');
    t.is((await bindingRow(a)).state, 'revoked');
    ours(t, await a.api('GET', 'V1/customers/1'), 409, 'store_revoked');
  });

  test('a binding cached from before a Reauthorize: the refused call is sent again with the new token, once', async (t) => {
    const a = await activatedStore(backend, t, { connector: { limits: { cacheTtlMs: 60_000 } } });
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200, 'the binding is cached now');
    const reauth = await a.mock.admin.reauthorize(a.integrationId);
    await waitFor('the new request token', async () => (await a.connector.binding(a.consumerKey))?.requestToken);
    const done = await finishInPopup(new Browser(), a.connector, reauth.popupUrl!, 'login', a.email, a.password);
    t.is(done.status, 302, done.text.slice(0, 300));
    await a.connector.running.services.activation.drain(); // the profile detection that follows the new access token
    const renewed = (await a.connector.binding(a.consumerKey))!;
    t.not(renewed.accessToken!.token, a.binding.accessToken!.token);

    a.mock.knobs.clearRequests();
    const body = '{"product":{"sku":"AFTER-1","name":"After the Reauthorize","price":1}}';
    const res = await a.api('POST', 'V1/products', { headers: { 'content-type': 'application/json' }, body });
    t.is(res.status, 200, res.text);
    t.deepEqual(
      a.mock.knobs.requests().map((r) => [r.method, r.status]),
      [['POST', 401], ['POST', 200]],
      'the old token was refused before Magento acted, so even a POST is sent again',
    );
    t.is(a.mock.catalog.products.filter((p) => p.sku === 'AFTER-1').length, 1);
    t.is((await bindingRow(a)).state, 'active');
    t.is((await a.api('GET', 'V1/products/AFTER-1')).status, 200);
    t.is(a.mock.knobs.requests().length, 3, 'the new token is cached now');
  });

  test('a caller that asks for XML: the XML 401 passes unchanged and is still recognised as a revocation', async (t) => {
    const a = await activatedStore(backend, t);
    a.mock.admin.delete(a.integrationId);
    const dead = await a.api('GET', 'V1/products/24-MB01', { headers: { accept: 'application/xml' } });
    t.is(dead.status, 401);
    t.is(dead.headers.get('content-type'), 'application/xml; charset=utf-8');
    t.is(dead.text, '<?xml version="1.0"?>\n<response><message>A consumer having the specified key does not exist</message></response>\n');
    const row = await bindingRow(a);
    t.is(row.state, 'revoked');
    t.is(row.lastError, 'Magento refused our access token: A consumer having the specified key does not exist');
    ours(t, await a.api('GET', 'V1/products/24-MB01', { headers: { accept: 'application/xml' } }), 409, 'store_revoked');
  });

  test("a resource the integration was not granted: Magento's 401 unchanged, and the binding stays active", async (t) => {
    const a = await activatedStore(backend, t);
    const denied = await a.api('GET', 'V1/store/storeConfigs');
    t.is(denied.status, 401);
    t.is(denied.headers.get('x-connector-error'), null);
    t.is(denied.text, '{"message":"The consumer isn\'t authorized to access %resources.","parameters":{"resources":"Magento_Backend::store"}}');

    const row = await bindingRow(a);
    t.is(row.state, 'active');
    t.truthy(row.accessTokenSealed);
    t.is(row.lastError, null);
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200, 'the token still works');
    const again = await a.api('GET', 'V1/store/storeConfigs', { headers: { accept: 'application/xml' } });
    t.is(again.status, 401, 'asked again (as XML), Magento answers again');
    t.regex(again.text, /<message>The consumer isn't authorized to access %resources.<\/message>/);
    t.is((await bindingRow(a)).state, 'active');
  });
});
