// Per-store state an instance keeps in memory is bounded (issue 16: 100,000 stores must not mean 100,000 entries per
// map). The circuit breaker keeps a circuit only for stores failing now, and at most `maxStores` of them.
import test from 'ava';
import { systemClock } from '../../src/clock.js';
import { createRestClient } from '../../src/protocol/rest-client.js';
import { createTransport } from '../../src/protocol/transport.js';
import { StoreAvailability } from '../../src/store-api/availability.js';

test('the circuit breaker holds at most maxStores circuits; a success forgets a store', async (t) => {
  // A real REST client on a port nothing listens on: every call is upstream_unreachable, a store being down.
  const transport = createTransport({ allowPrivate: true, connectTimeoutMs: 1_000, totalTimeoutMs: 2_000, maxResponseBytes: 1024 });
  t.teardown(() => transport.close());
  const rest = createRestClient({ transport, retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 } });
  const availability = new StoreAvailability({ clock: systemClock, failuresBeforeUnavailable: 2, cooldownMs: 60_000, maxStores: 3 });
  const guarded = availability.guard(rest);
  const store = (i: number) => ({
    storeBaseUrl: 'http://127.0.0.1:9/',
    consumerKey: `ck${String(i).padStart(30, '0')}`,
    consumerSecret: 's'.repeat(32),
    accessToken: { key: 't'.repeat(32), secret: 'u'.repeat(32) },
  });
  for (let i = 0; i < 10; i++) {
    await t.throwsAsync(guarded.send(store(i), { method: 'GET', path: 'V1/store/storeConfigs' }));
    t.true(availability.size <= 3, `after store ${i}: ${availability.size} circuits`);
  }
  t.is(availability.size, 3);
  t.is(availability.describe(store(9).consumerKey).consecutiveFailures, 1, 'the newest stores are the ones kept');
  t.is(availability.describe(store(0).consumerKey).consecutiveFailures, 0, 'the oldest was forgotten');
});
