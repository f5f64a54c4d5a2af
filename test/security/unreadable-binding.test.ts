// Issue 13: one binding whose sealed secrets cannot be opened (sealed under a key id SECRETS_KEY no longer has, or
// altered) must not stop the retry loop for every other binding. Real rows, tampered in the database, next to a
// healthy binding whose request-token retry is due: the healthy one gets its request token, the unreadable ones are
// failed with the reason (store.failed in the outbox) and are no longer due.
import { activatedStore, ours } from '../helpers/activated.js';
import { createAndActivate, startConnector, startMockStore, waitFor, waitForState } from '../helpers/connector.js';
import { forEachBackend, rawQuery } from '../helpers/db.js';

forEachBackend((backend, test) => {
  test('a binding that cannot be opened is failed and skipped; the retries of the others go on', async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t);
    const sql = (query: string) => rawQuery(backend, connector.databaseUrl, query);
    // Every request-token call fails for now (a store briefly down): each binding is retried by the resumer.
    mock.knobs.addFault({ kind: 'fail', pathPrefix: '/oauth/token/request', count: 100_000, status: 503 });

    const keyGone = await createAndActivate(mock, connector, 'CRM key gone');
    const altered = await createAndActivate(mock, connector, 'CRM altered');
    // A failed attempt is over once its error is recorded and its claim released (stepAttempts counts the claim).
    const failedOnce = (consumerKey: string) =>
      waitFor(`a failed attempt of ${consumerKey}`, async () => {
        const b = await connector.binding(consumerKey);
        return b?.lastError !== null && b?.lastError !== undefined && b.step === null;
      });
    await failedOnce(keyGone.consumerKey);
    await failedOnce(altered.consumerKey);
    const [gone, changed] = [(await connector.binding(keyGone.consumerKey))!, (await connector.binding(altered.consumerKey))!];
    const sealedOf = async (id: string) => String((await sql(`SELECT "consumerSecretSealed" AS v FROM "Binding" WHERE "id" = '${id}'`))[0]!.v);
    // keyId.iv.ciphertext.tag: one under a key id nobody has, one with its ciphertext altered.
    const [, ...rest] = (await sealedOf(gone.id)).split('.');
    await sql(`UPDATE "Binding" SET "consumerSecretSealed" = '${['retired', ...rest].join('.')}' WHERE "id" = '${gone.id}'`);
    const parts = (await sealedOf(changed.id)).split('.');
    parts[2] = (parts[2]![0] === 'A' ? 'B' : 'A') + parts[2]!.slice(1);
    await sql(`UPDATE "Binding" SET "consumerSecretSealed" = '${parts.join('.')}' WHERE "id" = '${changed.id}'`);
    await t.throwsAsync(connector.binding(keyGone.consumerKey), { message: /sealed with key "retired", which is not configured/ });
    await t.throwsAsync(connector.binding(altered.consumerKey), { message: /failed authentication/ });

    // A healthy binding whose first attempt fails too: only the resumer's retry can get its request token, and the
    // two unreadable rows are due before it (their retries are older).
    const healthy = await createAndActivate(mock, connector, 'CRM healthy');
    await failedOnce(healthy.consumerKey);
    mock.knobs.clearFaults();
    await waitForState(connector, healthy.consumerKey, 'request_token', 30_000);

    for (const { id } of [gone, changed]) {
      const [row] = await waitFor(`binding ${id} marked`, async () => {
        const rows = await sql(`SELECT "state", "lastError", "fix", "nextAttemptAt", "step" FROM "Binding" WHERE "id" = '${id}'`);
        return rows[0]?.state === 'failed' ? rows : undefined;
      });
      t.is(row!.fix, 'contact_support');
      t.is(row!.nextAttemptAt, null, 'no longer due');
      t.is(row!.step, null);
      t.regex(String(row!.lastError), /cannot open this store's stored secrets/);
      const events = await sql(`SELECT "type" FROM "WebhookEvent" WHERE "storeId" = '${id}'`);
      t.deepEqual(events.map((e) => e.type), ['store.failed']);
    }
    t.regex(String((await sql(`SELECT "lastError" FROM "Binding" WHERE "id" = '${gone.id}'`))[0]!.lastError), /"retired"/);
    // Nothing of theirs is due any more, and the scan answers.
    t.deepEqual((await connector.running.services.storage.bindings.due(new Date(Date.now() + 3_600_000), 10)).map((b) => b.id), []);
    t.regex(connector.logs(), /request-token step skipped: the binding's secrets cannot be opened/);
  });

  test('a connected store whose secrets cannot be opened: its calls answer 503 store_secrets_unreadable with the fix, not a 500; the lists show it with why', async (t) => {
    const store = await activatedStore(backend, t);
    t.is((await store.api('GET', 'V1/products/24-MB01')).status, 200);
    const sql = (query: string) => rawQuery(backend, store.connector.databaseUrl, query);
    const [{ v }] = (await sql(`SELECT "accessTokenSealed" AS v FROM "Binding" WHERE "id" = '${store.storeId}'`)) as [{ v: string }];
    const [, ...rest] = v.split('.');
    await sql(`UPDATE "Binding" SET "accessTokenSealed" = '${['retired', ...rest].join('.')}' WHERE "id" = '${store.storeId}'`);
    const requestsBefore = store.mock.knobs.requests().length;

    // The store's own description reads the row afresh (and drops the cached binding): then the proxy does too.
    const described = await fetch(`${store.connector.url}/api/stores/${store.storeId}`, { headers: { authorization: `Bearer ${store.apiKey}` } });
    t.is(described.status, 503);
    t.is(described.headers.get('x-connector-error'), 'store_secrets_unreadable');
    const res = await store.api('GET', 'V1/products/24-MB01');
    t.regex(ours(t, res, 503, 'store_secrets_unreadable'), /cannot be opened by this instance \(this value was sealed with key "retired", which is not configured: add "retired:<that key>" to SECRETS_KEY/);
    t.is(store.mock.knobs.requests().length, requestsBefore, 'nothing sent to the store');

    // The lists still answer: the store is in them, saying why it cannot be used (one such row is not a 503 for all).
    const listed = await fetch(`${store.connector.url}/api/stores`, { headers: { authorization: `Bearer ${store.apiKey}` } });
    t.is(listed.status, 200);
    const [row] = ((await listed.json()) as { stores: { id: string; state: string; lastError: { message: string } | null }[] }).stores;
    t.is(row?.id, store.storeId);
    t.regex(row!.lastError!.message, /stored credentials cannot be opened by this instance .*SECRETS_KEY/);
    const operatorKey = (await store.connector.running.services.operators.keys.create('ops')).key;
    const paged = await fetch(`${store.connector.url}/api/stores?limit=10`, { headers: { authorization: `Bearer ${operatorKey}` } });
    t.is(paged.status, 200);
    t.is(((await paged.json()) as { stores: { id: string }[] }).stores[0]?.id, store.storeId);
    t.notRegex(store.connector.logs(), /unhandled error|no HTTP status for this error code/);
  });
});
