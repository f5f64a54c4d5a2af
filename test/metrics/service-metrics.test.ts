// GET /metrics after a real activation and proxied calls: callbacks by outcome, activations by state, proxy calls by
// status class and by our error code, latency histograms for the proxy and the token calls, probe outcomes, database
// errors; and no store URL, store id or account id in any label.
import { activatedStore } from '../helpers/activated.js';
import { forEachBackend } from '../helpers/db.js';

forEachBackend((backend, test) => {
  test('GET /metrics: callbacks, activations, proxy calls and latencies, token calls, probes, database errors; bounded labels', async (t) => {
    const a = await activatedStore(backend, t);
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200);
    t.is((await a.api('GET', 'V1/products/no-such-sku')).status, 404);
    a.mock.admin.delete(a.integrationId);
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 401);
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 409, 'store_revoked: our own error');

    const res = await fetch(`${a.connector.url}/metrics`);
    t.is(res.status, 200);
    const text = await res.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    t.is(value('connector_callbacks_total{outcome="accepted"}'), 1);
    t.is(value('connector_callbacks_total{outcome="refused"}'), 0);
    t.is(value('connector_activations{state="revoked"}'), 1);
    t.is(value('connector_activations{state="active"}'), 0);
    t.is(value('connector_proxy_calls_total{status_class="2xx",error_code=""}'), 1);
    t.is(value('connector_proxy_calls_total{status_class="4xx",error_code=""}'), 2);
    t.is(value('connector_proxy_calls_total{status_class="none",error_code="store_revoked"}'), 1);
    t.is(value('connector_proxy_call_seconds_count'), 4);
    t.is(value('connector_token_call_seconds_count{call="request_token"}'), 1);
    t.is(value('connector_token_call_seconds_count{call="access_token"}'), 1);
    t.is(value('connector_probes_total{outcome="revoked"}'), 0);
    t.is(value('connector_database_errors_total'), 0);
    for (const secret of [a.mock.baseUrl, a.storeId, a.accountId, a.consumerKey]) t.false(text.includes(secret), `no ${secret} in the metrics`);
  });
});
