// GET /metrics: Prometheus text with webhook deliveries by outcome and the backlog, bounded labels (no store or
// account ids), and METRICS_TOKEN required as a Bearer token when set.
import { randomUUID } from 'node:crypto';
import { callApi, ours } from '../helpers/activated.js';
import { startConnector, waitFor } from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

forEachBackend((backend, test) => {
  test('webhook deliveries by outcome and the backlog; the token is required when set; no ids in labels', async (t) => {
    const connector = await startConnector(backend, t);
    const { operators, storage } = connector.running.services;
    const receiver = await startReceiver(t);
    const { secret } = await operators.webhooks.create({ url: receiver.url });
    receiver.secret = secret;
    const metric = async (line: RegExp) => line.exec((await callApi(`${connector.url}/metrics`, 'GET', null)).text)?.[1];

    const first = await callApi(`${connector.url}/metrics`, 'GET', null);
    t.is(first.status, 200);
    t.regex(first.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    t.regex(first.text, /^connector_webhook_deliveries_total\{outcome="delivered"\} 0$/m);
    t.regex(first.text, /^connector_webhook_backlog\{status="pending"\} 0$/m);

    receiver.failNext(1);
    const storeId = randomUUID();
    const accountId = randomUUID();
    await storage.webhooks.appendEvent({ type: 'store.connected', storeId, accountId, data: { store: { id: storeId }, account: { id: accountId, externalId: null } }, createdAt: connector.clock.now() });
    await waitFor('delivered after one retry', () => receiver.delivered().length === 1);
    await waitFor('the counter', async () => (await metric(/^connector_webhook_deliveries_total\{outcome="delivered"\} (\d+)$/m)) === '1');
    t.is(await metric(/^connector_webhook_deliveries_total\{outcome="retry"\} (\d+)$/m), '1');
    t.is(await metric(/^connector_webhook_backlog\{status="pending"\} (\d+)$/m), '0');
    const text = (await callApi(`${connector.url}/metrics`, 'GET', null)).text;
    t.false(text.includes(storeId) || text.includes(accountId) || text.includes(receiver.url), 'no ids or URLs in labels');

    connector.config.metricsToken = 'scrape-token-123';
    ours(t, await callApi(`${connector.url}/metrics`, 'GET', null), 401, 'unauthorized');
    ours(t, await callApi(`${connector.url}/metrics`, 'GET', 'wrong'), 401, 'unauthorized');
    t.is((await callApi(`${connector.url}/metrics`, 'GET', 'scrape-token-123')).status, 200);
  });
});
