// The scale benchmark's seeder (bench/seed.ts), at a tiny size: its rows must be what the activation steps write, so
// the benchmark measures the real thing. They open with the real repositories and the real sealer, the background
// queries find exactly the rows seeded as due, and the proxy serves a seeded store with a signature Magento (the mock,
// signatures checked) accepts. Not timed.
import { parseSecretsKey, Sealer } from '../../src/secrets/sealer.js';
import { openStorage } from '../../src/storage/db.js';
import { openBenchDb, seedScale, type SeededBinding } from '../../bench/seed.js';
import { startConnector, startMockStore, testSecretsKey } from '../helpers/connector.js';
import { forEachBackend, freshDatabase, rawQuery } from '../helpers/db.js';

forEachBackend((backend, test) => {
  test('seeded bindings open with the real sealer, the due queries find the seeded due rows, the proxy serves them', async (t) => {
    const database = await freshDatabase(backend);
    t.teardown(() => database.drop());
    const mock = await startMockStore(t);
    const secretsKey = testSecretsKey();
    const sealer = new Sealer(parseSecretsKey(secretsKey));
    const now = new Date();
    const seeded: SeededBinding[] = [];
    const bench = await openBenchDb(database.url);
    const result = await seedScale(bench.db, {
      bindings: 60,
      accounts: 6,
      storeBaseUrl: mock.baseUrl,
      sealer,
      now,
      probeIntervalMs: 3600_000,
      dueRows: 3,
      batch: 7, // several batches, one of them short
      onBinding: (b) => seeded.push(b),
    });
    await bench.close();
    t.is(result.bindings, 60);
    t.is(seeded.length, 60);
    t.is(result.accounts.length, 6);

    const storage = await openStorage({ databaseUrl: database.url, sealer });
    t.teardown(() => storage.close());
    // Every row opens, with the values seeded (sealed, not in clear).
    for (const s of seeded) {
      const b = (await storage.bindings.byId(s.id))!;
      t.truthy(b, s.id);
      t.is(b.consumerKey, s.consumerKey);
      t.is(b.consumerSecret, s.consumerSecret);
      t.is(b.state, s.state);
      t.deepEqual(b.accessToken && { token: b.accessToken.token, secret: b.accessToken.secret }, s.accessToken);
    }
    const [row] = await rawQuery(backend, database.url, `SELECT "consumerSecretSealed", "accessTokenSealed" FROM "Binding" WHERE "id" = '${seeded[5]!.id}'`);
    t.notRegex(String(row!.consumerSecretSealed), new RegExp(seeded[5]!.consumerSecret), 'sealed at rest');
    for (const a of result.accounts) {
      t.deepEqual((await storage.bindings.listByAccount(a.id)).filter((b) => b.state === 'active').map((b) => b.id).sort(), [...a.bindingIds].sort());
    }
    // The background queries: exactly the seeded due rows.
    t.deepEqual((await storage.bindings.due(now, 50)).map((b) => b.id).sort(), seeded.slice(0, 3).map((b) => b.id).sort());
    t.deepEqual((await storage.probes.due(now, 50)).map((p) => p.id).sort(), seeded.slice(3, 6).map((b) => b.id).sort());
    t.deepEqual(await storage.webhooks.due(now, 50), [], 'the seeded webhook history is delivered');
    t.is(await storage.sessions.deleteExpired(now), 0, 'the seeded sessions are live');

    // The mock store knows the seeded credentials (as Magento would after activation) and checks signatures.
    for (const s of seeded.filter((b) => b.state === 'active')) {
      mock.admin.seed({
        name: `seeded ${s.id}`,
        consumerKey: s.consumerKey,
        consumerSecret: s.consumerSecret,
        status: 'active',
        tokens: [{ type: 'access', token: s.accessToken!.token, secret: s.accessToken!.secret }],
      });
    }
    const connector = await startConnector(backend, t, { databaseUrl: database.url, secretsKey });
    const account = result.accounts[2]!;
    const storeId = account.bindingIds[1]!;
    const res = await fetch(`${connector.url}/api/stores/${storeId}/rest/V1/products/24-MB01`, { headers: { authorization: `Bearer ${account.apiKey}` } });
    t.is(res.status, 200, await res.clone().text());
    t.is(((await res.json()) as { sku: string }).sku, '24-MB01');
    // Another account's key does not reach it.
    const other = await fetch(`${connector.url}/api/stores/${storeId}/rest/V1/products/24-MB01`, { headers: { authorization: `Bearer ${result.accounts[3]!.apiKey}` } });
    t.is(other.status, 404);
  });
});
