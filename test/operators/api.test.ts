// The operator surface over real HTTP on both backends: operator keys (account keys get 403 operator_only), the
// accounts API with externalId, validation naming the field, every store for an operator with accountId, and the
// webhooks API end to end with a real receiver (create, deliveries, failing, retry, delete).
import { randomUUID } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { activatedStore, callApi, ours, type ApiResponse } from '../helpers/activated.js';
import { Browser, startConnector, startMockStore, waitFor, type Connector } from '../helpers/connector.js';
import { forEachBackend, rawQuery } from '../helpers/db.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

async function operatorKey(connector: Connector): Promise<string> {
  return (await connector.running.services.operators.keys.create('test operator')).key;
}

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function invalid(t: ExecutionContext, res: ApiResponse, field: string): void {
  const message = ours(t, res, 400, 'invalid_request');
  t.true(message.startsWith(`${field}:`), `${message} names ${field}`);
}

forEachBackend((backend, test) => {
  test('an operator creates an account with an externalId, finds it, and makes it an API key', async (t) => {
    const connector = await startConnector(backend, t);
    const key = await operatorKey(connector);
    t.regex(key, /^mco_[A-Za-z0-9_-]{43}$/);
    const api = (method: string, path: string, init = {}, k: string | null = key) => callApi(`${connector.url}/api${path}`, method, k, init);

    const created = await api('POST', '/accounts', json({ email: 'Shop@Example.com', externalId: 'tenant-42' }));
    t.is(created.status, 201, created.text);
    const account = created.json as Record<string, string>;
    t.like(account, { email: 'shop@example.com', externalId: 'tenant-42' });
    // The account's own activation URLs (issue 13): one unguessable token in the path of both.
    const token = /^(.*)\/magento\/callback\/([A-Za-z0-9_-]{43})$/.exec(account.callbackUrl!);
    t.is(token?.[1], connector.url);
    t.is(account.identityLinkUrl, `${connector.url}/magento/identity/${token?.[2]}`);
    t.deepEqual(Object.keys(account).sort(), ['callbackUrl', 'createdAt', 'email', 'externalId', 'id', 'identityLinkUrl']);

    ours(t, await api('POST', '/accounts', json({ email: 'shop@example.com' })), 409, 'email_taken');
    ours(t, await api('POST', '/accounts', json({ email: 'other@example.com', externalId: 'tenant-42' })), 409, 'external_id_taken');
    const noExternal = await api('POST', '/accounts', json({ email: 'plain@example.com' }));
    t.is(noExternal.status, 201);
    t.is((noExternal.json as { externalId: unknown }).externalId, null);

    const found = await api('GET', '/accounts?externalId=tenant-42');
    t.deepEqual((found.json as { accounts: unknown[] }).accounts, [account]);
    t.deepEqual(((await api('GET', '/accounts?externalId=nobody')).json as { accounts: unknown[] }).accounts, []);
    t.is(((await api('GET', '/accounts')).json as { accounts: unknown[] }).accounts.length, 2);
    t.deepEqual((await api('GET', `/accounts/${account.id}`)).json, account);
    ours(t, await api('GET', `/accounts/${randomUUID()}`), 404, 'account_not_found');

    const made = await api('POST', `/accounts/${account.id}/api-keys`, json({ name: 'CRM backend' }));
    t.is(made.status, 201, made.text);
    const apiKey = made.json as { id: string; name: string; key: string };
    t.is(apiKey.name, 'CRM backend');
    t.regex(apiKey.key, /^mck_/);
    const stores = await api('GET', '/stores', {}, apiKey.key);
    t.is(stores.status, 200);
    t.deepEqual(stores.json, { stores: [] });
    ours(t, await api('POST', `/accounts/${randomUUID()}/api-keys`, json({ name: 'x' })), 404, 'account_not_found');

    // An account's key on any operator route: 403 operator_only; no key: 401; a wrong or revoked operator key: 401.
    for (const [method, path] of [['POST', '/accounts'], ['GET', '/accounts'], ['GET', `/accounts/${account.id}`], ['POST', `/accounts/${account.id}/api-keys`], ['POST', `/accounts/${account.id}/activation-urls/rotate`], ['POST', '/webhooks'], ['GET', '/webhooks'], ['DELETE', `/webhooks/${randomUUID()}`]] as const) {
      ours(t, await api(method, path, method === 'GET' ? {} : json({ name: 'x' }), apiKey.key), 403, 'operator_only');
      ours(t, await api(method, path, {}, null), 401, 'unauthorized');
    }
    ours(t, await api('GET', '/accounts', {}, `${key}x`), 401, 'unauthorized');
    const [record] = await connector.running.services.operators.keys.list();
    t.is(record!.prefix, key.slice(0, 10));
    await waitFor('last use recorded', async () => (await connector.running.services.operators.keys.list())[0]!.lastUsedAt);
    t.true(await connector.running.services.operators.keys.revoke(record!.id));
    connector.clock.advance(connector.config.limits.cacheTtlMs + 1);
    ours(t, await api('GET', '/accounts'), 401, 'unauthorized');
  });

  test("issue 13: an account's activation URLs from the operator API take a store into that account; rotating them stops the old ones", async (t) => {
    const connector = await startConnector(backend, t);
    const mock = await startMockStore(t);
    const key = await operatorKey(connector);
    const api = (method: string, path: string, init = {}, k: string | null = key) => callApi(`${connector.url}/api${path}`, method, k, init);
    const account = (await api('POST', '/accounts', json({ email: 'tenant@example.com', externalId: 'tenant-7' }))).json as Record<string, string>;
    const other = (await api('POST', '/accounts', json({ email: 'other@example.com' }))).json as Record<string, string>;
    t.not(other.callbackUrl, account.callbackUrl, 'each account has its own');
    t.deepEqual((await api('GET', `/accounts/${account.id}`)).json, account, 'the same URLs every time');

    // The CRM hands the URLs to the merchant, who saves them in the integration and clicks Activate.
    const integration = mock.admin.create({ name: 'CRM', callbackUrl: account.callbackUrl!, identityLinkUrl: account.identityLinkUrl! });
    const activated = await mock.admin.activate(integration.id);
    t.deepEqual(activated.callback, { ok: true, status: 200 });
    t.true(activated.popupUrl!.startsWith(`${account.identityLinkUrl}?`));
    const pending = await waitFor('the binding', () => connector.binding(integration.consumerKey));
    t.is(pending.accountId, account.id!, 'the store belongs to the account from its first request');

    const rotated = await api('POST', `/accounts/${account.id}/activation-urls/rotate`);
    t.is(rotated.status, 200, rotated.text);
    const renewed = rotated.json as Record<string, string>;
    t.like(renewed, { id: account.id, email: 'tenant@example.com', externalId: 'tenant-7' });
    t.not(renewed.callbackUrl, account.callbackUrl);
    t.not(renewed.identityLinkUrl, account.identityLinkUrl);
    t.deepEqual((await api('GET', `/accounts/${account.id}`)).json, renewed);
    const old = await callApi(account.callbackUrl!, 'POST', null, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'oauth_consumer_key=x' });
    ours(t, old, 404, 'unknown_activation_url');
    t.is((await new Browser().get(`${account.identityLinkUrl}?oauth_consumer_key=${integration.consumerKey}`)).status, 404, 'the old popup URL is gone too');
    t.is((await connector.binding(integration.consumerKey))?.accountId, account.id!, 'the binding is untouched');
    t.deepEqual((await api('GET', `/accounts/${other.id}`)).json, other, "another account's URLs are untouched");
    ours(t, await api('POST', `/accounts/${randomUUID()}/activation-urls/rotate`), 404, 'account_not_found');
  });

  test('every operator input is validated: a 400 that names the field, unknown fields refused', async (t) => {
    const connector = await startConnector(backend, t);
    const key = await operatorKey(connector);
    const api = (method: string, path: string, init = {}) => callApi(`${connector.url}/api${path}`, method, key, init);
    invalid(t, await api('POST', '/accounts', json({ email: 'not an email' })), 'email');
    invalid(t, await api('POST', '/accounts', json({})), 'email');
    invalid(t, await api('POST', '/accounts', json({ email: 'a@example.com', externalId: 42 })), 'externalId');
    invalid(t, await api('POST', '/accounts', json({ email: 'a@example.com', externalId: ' padded' })), 'externalId');
    invalid(t, await api('POST', '/accounts', json({ email: 'a@example.com', password: 'x' })), 'password');
    invalid(t, await api('POST', '/accounts', { headers: { 'content-type': 'application/json' }, body: '{"email":' }), 'body');
    ours(t, await api('POST', '/accounts', { headers: { 'content-type': 'text/plain' }, body: 'x' }), 415, 'unsupported_media_type');
    invalid(t, await api('GET', '/accounts?externalId=a&externalId=b'), 'externalId');
    invalid(t, await api('GET', '/accounts?color=red'), 'color');
    invalid(t, await api('GET', '/accounts?limit=0'), 'limit');
    const account = (await api('POST', '/accounts', json({ email: 'ok@example.com' }))).json as { id: string };
    invalid(t, await api('POST', `/accounts/${account.id}/api-keys`, json({})), 'name');
    invalid(t, await api('POST', `/accounts/${account.id}/api-keys`, json({ name: 'k', scope: 'all' })), 'scope');
    invalid(t, await api('POST', '/webhooks', json({ url: 'https://crm.example.com/h', events: ['store.exploded'] })), 'events.0');
    invalid(t, await api('POST', '/webhooks', json({ url: 'https://crm.example.com/h', events: [] })), 'events');
    invalid(t, await api('POST', '/webhooks', json({ events: ['store.revoked'] })), 'url');
    invalid(t, await api('POST', '/webhooks', json({ url: 'https://crm.example.com/h', secret: 'mine' })), 'secret');
    invalid(t, await api('GET', '/stores?accountId='), 'accountId');
    const bad = await api('POST', '/webhooks', json({ url: 'ftp://crm.example.com/h' }));
    t.regex(ours(t, bad, 400, 'invalid_webhook_url'), /^url: use https/);
  });

  test('an operator key sees every store with its accountId, filters by account, and calls any store', async (t) => {
    const a = await activatedStore(backend, t);
    const key = await operatorKey(a.connector);
    const list = await callApi(`${a.connector.url}/api/stores`, 'GET', key);
    t.is(list.status, 200);
    const stores = (list.json as { stores: { id: string; accountId: string }[] }).stores;
    t.deepEqual(stores.map((s) => [s.id, s.accountId]), [[a.storeId, a.accountId]]);
    const own = await callApi(`${a.connector.url}/api/stores`, 'GET', a.apiKey);
    t.is((own.json as { stores: { accountId: string }[] }).stores[0]!.accountId, a.accountId, 'account keys see accountId too');
    t.is(((await callApi(`${a.connector.url}/api/stores?accountId=${a.accountId}`, 'GET', key)).json as { stores: unknown[] }).stores.length, 1);
    t.is(((await callApi(`${a.connector.url}/api/stores?accountId=${randomUUID()}`, 'GET', key)).json as { stores: unknown[] }).stores.length, 0);
    const one = await callApi(`${a.connector.url}/api/stores/${a.storeId}`, 'GET', key);
    t.is(one.status, 200);
    t.is((one.json as { accountId: string }).accountId, a.accountId);
    const product = await a.api('GET', 'V1/products/24-MB01', { key });
    t.is(product.status, 200, product.text.slice(0, 300));
    ours(t, await callApi(`${a.connector.url}/api/stores/${randomUUID()}`, 'GET', key), 404, 'store_not_found');
  });

  test('an operator pages through accounts and stores with limit and the next cursor; a made-up cursor is a 400 naming after', async (t) => {
    const connector = await startConnector(backend, t);
    const key = await operatorKey(connector);
    const api = (method: string, path: string, init = {}) => callApi(`${connector.url}/api${path}`, method, key, init);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push(((await api('POST', '/accounts', json({ email: `page${i}@example.com` }))).json as { id: string }).id);
    const walk = async (path: string, field: 'accounts' | 'stores') => {
      const seen: { id: string; callbackUrl?: string }[] = [];
      let next: string | null = null;
      do {
        const res = await api('GET', `${path}${next ? `&after=${next}` : ''}`);
        t.is(res.status, 200, res.text);
        const body = res.json as Record<string, unknown> & { next: string | null };
        seen.push(...(body[field] as { id: string }[]));
        next = body.next;
      } while (next && seen.length < 50);
      return seen;
    };
    const accounts = await walk('/accounts?limit=2', 'accounts');
    t.deepEqual(accounts.map((a) => a.id), made, 'every account once, in creation order');
    t.true(accounts.every((a) => /\/magento\/callback\/[A-Za-z0-9_-]{43}$/.test(a.callbackUrl!)), 'each with its own URLs');
    t.deepEqual(accounts, ((await api('GET', '/accounts')).json as { accounts: unknown[] }).accounts, 'the same as one page of 100');
    t.is(((await api('GET', '/accounts')).json as { next: unknown }).next, null);

    const { storage } = connector.running.services;
    for (const [i, accountId] of made.entries()) {
      await storage.bindings.create({ id: randomUUID(), consumerKey: `ck-page-${i}`, storeBaseUrl: 'https://store.example.com/', state: 'pending', consumerSecret: 'cs', verifier: 'v', callbackAt: connector.clock.now(), accountId });
    }
    const stores = await walk('/stores?limit=2', 'stores');
    t.deepEqual(stores.map((s) => s.id), (await storage.bindings.list()).map((b) => b.id));
    t.is(((await api('GET', `/stores?accountId=${made[3]}&limit=1`)).json as { stores: { accountId: string }[] }).stores[0]!.accountId, made[3]!);

    invalid(t, await api('GET', '/accounts?after=bm9wZQ'), 'after');
    invalid(t, await api('GET', '/accounts?after=not%20base64'), 'after');
    invalid(t, await api('GET', '/stores?after=bm9wZQ'), 'after');
    invalid(t, await api('GET', '/stores?limit=1001'), 'limit');
  });

  test('webhooks API: created with its secret once, deliveries listed, failing shown, retried, deleted', async (t) => {
    const connector = await startConnector(backend, t);
    const key = await operatorKey(connector);
    const api = (method: string, path: string, init = {}) => callApi(`${connector.url}/api${path}`, method, key, init);
    const receiver = await startReceiver(t, { nowSeconds: () => Math.floor(connector.clock.now().getTime() / 1000) });
    const created = await api('POST', '/webhooks', json({ url: receiver.url, events: ['store.connected', 'store.revoked'] }));
    t.is(created.status, 201, created.text);
    const hook = created.json as { id: string; url: string; events: string[]; secret: string; status: string };
    t.like(hook, { url: receiver.url, events: ['store.connected', 'store.revoked'], status: 'active' });
    t.regex(hook.secret, /^whsec_/);
    receiver.secret = hook.secret;
    const listed = (await api('GET', '/webhooks')).json as { webhooks: Record<string, unknown>[] };
    t.is(listed.webhooks.length, 1);
    t.false('secret' in listed.webhooks[0]!, 'the secret is shown only on creation');
    const [row] = await rawQuery(backend, connector.databaseUrl, 'SELECT "secretSealed" FROM "WebhookSubscription"');
    t.false(String(row!.secretSealed).includes(hook.secret.slice(6)), 'sealed at rest');

    const { storage } = connector.running.services;
    const storeId = randomUUID();
    const data = { store: { id: storeId, state: 'active' }, account: { id: 'acct', externalId: 'tenant-1' } };
    const first = await storage.webhooks.appendEvent({ type: 'store.connected', storeId, accountId: 'acct', data, createdAt: connector.clock.now() });
    await storage.webhooks.appendEvent({ type: 'store.reauthorized', storeId, accountId: 'acct', data, createdAt: connector.clock.now() }); // filtered out
    await waitFor('the running worker delivers', () => receiver.delivered().length === 1);
    t.is(receiver.delivered()[0]!.eventId, first.id);
    const deliveries = async () => ((await api('GET', `/webhooks/${hook.id}/deliveries`)).json as { deliveries: Record<string, unknown>[] }).deliveries;
    t.like((await deliveries())[0], { id: first.id, type: 'store.connected', status: 'delivered', lastStatus: 200, attempts: 1, nextAttemptAt: null });

    // The receiver goes down for longer than the retry period: the delivery fails and the webhook shows failing.
    receiver.down();
    const revoked = await storage.webhooks.appendEvent({ type: 'store.revoked', storeId, accountId: 'acct', data, createdAt: connector.clock.now() });
    await waitFor('a refused attempt', () => receiver.requests.some((r) => r.eventId === revoked.id));
    connector.clock.advance(connector.config.webhooks.retryPeriodMs + 1);
    await waitFor('the delivery to fail', async () => (await deliveries()).find((d) => d.id === revoked.id)?.status === 'failed');
    const failing = ((await api('GET', '/webhooks')).json as { webhooks: { status: string; failingSince: string | null }[] }).webhooks[0]!;
    t.is(failing.status, 'failing');
    t.truthy(failing.failingSince);
    t.like((await deliveries()).find((d) => d.id === revoked.id), { lastStatus: 503, nextAttemptAt: null });

    receiver.up();
    const retried = await api('POST', `/webhooks/${hook.id}/deliveries/${revoked.id}/retry`);
    t.is(retried.status, 202, retried.text);
    t.like(retried.json, { id: revoked.id, status: 'pending' });
    await waitFor('the retried delivery arrives', () => receiver.delivered().some((d) => d.eventId === revoked.id));
    await waitFor('failing cleared', async () => ((await api('GET', '/webhooks')).json as { webhooks: { status: string }[] }).webhooks[0]!.status === 'active');
    ours(t, await api('POST', `/webhooks/${hook.id}/deliveries/${first.id}/retry`), 409, 'delivery_already_delivered');
    ours(t, await api('POST', `/webhooks/${hook.id}/deliveries/${randomUUID()}/retry`), 404, 'delivery_not_found');

    t.is((await api('DELETE', `/webhooks/${hook.id}`)).status, 204);
    ours(t, await api('DELETE', `/webhooks/${hook.id}`), 404, 'webhook_not_found');
    ours(t, await api('GET', `/webhooks/${hook.id}/deliveries`), 404, 'webhook_not_found');
    t.deepEqual((await api('GET', '/webhooks')).json, { webhooks: [] });
  });
});
