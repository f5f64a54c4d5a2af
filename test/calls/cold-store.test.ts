// A store not in the gateway's cache (issue 16): calls that arrive together share one read of its binding, a proxied
// call whose API key is not cached starts that read beside the key's look-up, and a store evicted while it is read
// is not cached from that read.
import type { Binding } from '../../src/storage/types.js';
import { activatedStore, type ActivatedStore } from '../helpers/activated.js';
import { forEachBackend } from '../helpers/db.js';

/** Counts the gateway's reads of bindings by id (the real repository still answers them). */
function countReads(a: ActivatedStore): { reads: () => number } {
  const bindings = a.connector.running.services.storage.bindings;
  const byId = bindings.byId.bind(bindings);
  let reads = 0;
  bindings.byId = (id: string): Promise<Binding | null> => {
    if (id === a.storeId) reads++;
    return byId(id);
  };
  return { reads: () => reads };
}

forEachBackend((backend, test) => {
  test('ten calls at once to a store not cached read its binding once; all are answered', async (t) => {
    const a = await activatedStore(backend, t);
    const { stores } = a.connector.running.services;
    const { reads } = countReads(a);
    stores.evictCached(a.storeId);
    const answers = await Promise.all(Array.from({ length: 10 }, () => a.api('GET', 'V1/products/24-MB01')));
    t.deepEqual(answers.map((r) => r.status), Array(10).fill(200));
    t.is(reads(), 1);
  });

  test('a key not cached: the store is read beside it, once for the call; a wrong key is still 401', async (t) => {
    const a = await activatedStore(backend, t);
    const { reads } = countReads(a);
    // Both caches past their TTL: the next call looks the key up and reads the store.
    a.connector.clock.advance(a.connector.config.limits.cacheTtlMs + 1);
    const wrong = await a.api('GET', 'V1/products/24-MB01', { key: `${a.apiKey.slice(0, -4)}zzzz` });
    t.is(wrong.status, 401);
    const before = reads();
    t.true(before <= 1, 'a wrong key reads the store at most once (the prefetch)');
    a.connector.clock.advance(a.connector.config.limits.cacheTtlMs + 1);
    const ok = await a.api('GET', 'V1/products/24-MB01');
    t.is(ok.status, 200);
    t.is(reads() - before, 1, 'the prefetch and the call shared one read');
  });

  test('a store evicted while its binding is read is not cached from that read', async (t) => {
    const a = await activatedStore(backend, t);
    const { stores } = a.connector.running.services;
    const { reads } = countReads(a);
    stores.evictCached(a.storeId);
    stores.prefetch(a.storeId);
    stores.evictCached(a.storeId); // a change made here meanwhile
    await new Promise((resolve) => setTimeout(resolve, 200)); // the first read has ended
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200);
    t.is(reads(), 2, 'the call read again');
    t.is((await a.api('GET', 'V1/products/24-MB01')).status, 200);
    t.is(reads(), 2, 'and cached what it read');
  });
});
