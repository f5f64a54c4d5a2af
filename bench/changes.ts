// Incremental reads against plain offset paging, same run, same store: the mock store (its own process, signatures
// checked) seeded with N light orders (default 100,000), read through the TypeScript client
//   changes   store.changes('V1/orders')            moving lower bound on updated_at, pages of 300
//   paginate  store.paginate('V1/orders', sort updated_at)   offset pages of 300
// and printed as entities per second each, and their ratio.
//   npm run bench -- changes [orders]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { spawnServer } from '../scripts/spawn-instance.js';

const hidden = (html: string) => Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export async function changesBench(count = 100_000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-changes-'));
  const upstream = await spawnServer('bench/upstream.ts');
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${join(dir, 'connector.db')}`, SECRETS_KEY: `b1:${randomBytes(32).toString('base64')}`, ALLOW_PRIVATE_STORE_URLS: 'true', DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const { migrate } = await import('../src/storage/db.js');
  await migrate(config.databaseUrl);
  const server = await startServer(config, { logger: createLogger('silent') });
  config.publicUrl = server.url;
  try {
    const admin = new URL('/admin/api/integrations', upstream.url).href;
    const integration = await json<{ id: number; consumerKey: string }>(
      await post(admin, { name: 'bench', callbackUrl: `${server.url}/magento/callback`, identityLinkUrl: `${server.url}/magento/identity`, resources: 'all' }),
    );
    const { popupUrl } = await json<{ popupUrl: string }>(await fetch(`${admin}/${integration.id}/activate`, { method: 'POST' }));
    // The request token is fetched right after the callback: wait for it before the popup's form.
    for (let i = 0; i < 100; i++) {
      const b = await server.services.storage.bindings.byConsumerKey(integration.consumerKey);
      if (b?.state === 'request_token') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const popup = await fetch(popupUrl);
    const cookie = popup.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const signup = await fetch(`${server.url}/magento/identity/signup`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ ...hidden(await popup.text()), email: 'bench@example.com', password: 'benchmark password' }).toString(),
    });
    if (signup.status !== 302) throw new Error(`activation failed: ${signup.status} ${await signup.text()}`);
    let binding = await server.services.storage.bindings.byConsumerKey(integration.consumerKey);
    for (let i = 0; i < 100 && binding?.state !== 'active'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      binding = await server.services.storage.bindings.byConsumerKey(integration.consumerKey);
    }
    if (binding?.state !== 'active') throw new Error(`the store is not active: ${binding?.state}`);
    await json<{ added: number }>(await post(new URL('/__mock/orders/seed', upstream.url).href, { count }));
    const store = server.services.client(binding.accountId!).forStore(binding.id);

    const timed = async (name: string, walk: () => AsyncIterable<unknown>) => {
      const started = process.hrtime.bigint();
      let n = 0;
      for await (const _ of walk()) n++;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return { name, n, seconds, perSecond: n / seconds };
    };
    const results = [
      await timed('changes', () => store.changes('V1/orders', { pageSize: 300 })),
      await timed('paginate', () => store.paginate('V1/orders', { sort_orders: [{ field: 'updated_at', direction: 'ASC' }] }, { pageSize: 300 })),
    ];
    console.log(`changes: ${count} seeded mock orders + the sample ones (3 per updated_at second), pages of 300, signatures checked`);
    console.log('  (the mock filters by scanning every order per page, where MySQL would use the updated_at index; offset');
    console.log('   pages cost MySQL the skipped rows, which the mock does not model: compare shapes on a real store)');
    for (const r of results) {
      console.log(`  ${r.name.padEnd(9)} ${String(r.n).padStart(7)} entities in ${r.seconds.toFixed(2).padStart(6)} s   ${r.perSecond.toFixed(0).padStart(7)} entities/s`);
    }
    const [inc, plain] = results;
    console.log(`  changes / paginate: ${(inc!.perSecond / plain!.perSecond).toFixed(2)} x the throughput (both read every entity: ${inc!.n === plain!.n ? 'yes' : 'NO'})`);
  } finally {
    await server.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await changesBench(Number(process.argv[2] ?? 100_000));
}
