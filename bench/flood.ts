// Callback flood (issue 13): 3,000 junk callbacks through one account's URL, every store URL a tarpit that accepts
// connections and never answers, while one real merchant activates on the mock store (in the middle of the flood).
// The callback rate limits and the pending-binding cap are raised out of the way: this measures the worst case for
// the request-token side (with the defaults, one account URL takes 60 callbacks a minute, one address 120). The per-host bound on
// request-token fetches keeps the junk to a few background slots, so the merchant's request token must arrive within
// 5 s (Magento's window is 300 s; without the bound the junk held every slot for the token-call timeout).
//   npm run bench -- flood [N]        (N = 3000 by default)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createMockStore } from '../src/mock-store/app.js';
import { migrate } from '../src/storage/db.js';
import { ms, verdict } from './stats.js';

const n = Number(process.argv[2] ?? 3000);
const dir = mkdtempSync(join(tmpdir(), 'bench-flood-'));
const databaseUrl = process.env.BENCH_DATABASE_URL ?? `file:${join(dir, 'connector.db')}`;
await migrate(databaseUrl);

// The tarpit: accepts, reads, never answers.
const held = new Set<Socket>();
const tarpit = createServer((socket) => {
  held.add(socket);
  socket.on('data', () => {});
  socket.on('close', () => held.delete(socket));
});
await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
const tarpitUrl = `http://127.0.0.1:${(tarpit.address() as { port: number }).port}/`;

const config = loadConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  DATABASE_URL: databaseUrl,
  DATA_DIR: dir,
  SECRETS_KEY: `bench:${randomBytes(32).toString('base64')}`,
  ALLOW_PRIVATE_STORE_URLS: 'true',
  LOG_LEVEL: 'silent',
  // Let every junk callback in: this measures the request-token side, not the callback rate limits.
  CALLBACK_RATE_PER_ACCOUNT: '1000000',
  CALLBACK_RATE_PER_ADDRESS: '1000000',
  PENDING_BINDINGS_PER_ACCOUNT: String(n + 10),
  MAX_STORES_PER_ACCOUNT: String(n + 10),
});
const running = await startServer(config);
config.publicUrl = running.url;
const mock = createMockStore({ testMode: true });
await mock.start(0);
try {
  const { accounts, activation } = running.services;
  const attacker = await accounts.signUp('attacker@example.com', 'bench attacker password');
  const merchant = await accounts.signUp('merchant@example.com', 'bench merchant password');
  const junkUrl = (await activation.activationUrls(attacker.id, running.url)).callbackUrl;
  const credential = () => randomBytes(16).toString('hex');

  const started = performance.now();
  let sent = 0;
  let accepted = 0;
  let failedSends = 0;
  let firstFailure: string | undefined;
  let firstRefusal: string | undefined;
  let junkDone = 0;
  const flood = Promise.all(
    Array.from({ length: 50 }, async () => {
      while (sent < n) {
        sent++;
        try {
          const res = await fetch(junkUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ oauth_consumer_key: credential(), oauth_consumer_secret: credential(), oauth_verifier: credential(), store_base_url: tarpitUrl }).toString(),
          });
          await res.arrayBuffer();
          if (res.status === 200) accepted++;
          else if (!firstRefusal) firstRefusal = `${res.status} ${res.headers.get('x-connector-error')}`;
        } catch (err) {
          failedSends++;
          firstFailure ??= String((err as Error).cause ?? err);
        }
      }
    }),
  ).then(() => (junkDone = performance.now() - started));

  // The real merchant clicks Activate in the middle of the flood: half the junk is in (its request-token fetches
  // held by the tarpit or waiting their turn), the other half still arriving.
  while (sent < n / 2) await new Promise((resolve) => setTimeout(resolve, 5));
  const integration = mock.admin.create({ name: 'real merchant', ...(await activation.activationUrls(merchant.id, running.url)) });
  const t0 = performance.now();
  const result = await mock.admin.activate(integration.id);
  const callbackMs = performance.now() - t0;
  let tokenAt: number | null = null;
  const deadline = t0 + 60_000;
  while (performance.now() < deadline) {
    if (mock.admin.get(integration.id).tokens.some((row) => row.type === 'request')) {
      tokenAt = performance.now() - t0;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const sentWhenToken = sent;
  await flood;
  console.log(`callback flood: ${n} junk callbacks at a tarpit while one real merchant activates (connector on ${databaseUrl.startsWith('file:') ? 'SQLite' : 'PostgreSQL'})`);
  console.log(`  junk callbacks accepted ${accepted}/${n} in ${ms(junkDone)}; connections held by the tarpit now: ${held.size} (per-host bound ${config.limits.requestTokenPerHost})`);
  if (failedSends || firstRefusal) console.log(`  junk sends failed ${failedSends} (${firstFailure ?? 'none'}); first refusal ${firstRefusal ?? 'none'}`);
  console.log(`  the merchant clicked Activate after ${Math.ceil(n / 2)} junk callbacks; ${sentWhenToken} had been sent when its request token came`);
  console.log(`  the merchant's callback: ${result.callback?.ok ? 'ok' : JSON.stringify(result.callback)}, answered in ${ms(callbackMs)} (Magento waits 5 s)`);
  console.log(`  the merchant's request token after ${tokenAt === null ? 'never (60 s)' : ms(tokenAt)}   (target < 5000 ms: ${verdict(tokenAt !== null && tokenAt < 5_000)}; Magento's window is 300 s)`);
} finally {
  for (const socket of held) socket.destroy();
  tarpit.close();
  await mock.close();
  await running.stop();
  rmSync(dir, { recursive: true, force: true });
}
