// `npm run demo`: the mock Magento store and the connector in one process, an integration in the mock already
// pointing at the connector, and the one URL a person opens to click through an activation. Ctrl-C stops both.
//
// The demo keeps its own SQLite database under data/demo/, fresh on every start: the mock store keeps its
// integrations in memory, so bindings from an earlier run would point at tokens that no longer exist.
// DEMO_PORT (3000) and MOCK_STORE_PORT (3001) choose the ports; a busy one is replaced by a free one.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSWORD_MIN } from '../src/accounts/passwords.js';
import { startServer, type RunningServer } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { createMockStore } from '../src/mock-store/app.js';
import { migrate } from '../src/storage/db.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(root, 'data', 'demo');
const databaseFile = join(dataDir, 'connector.db');
const INTEGRATION_NAME = 'Demo CRM';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number (0-65535), got "${raw}"`);
    process.exit(2);
  }
  return value;
}

/** `preferred` if nothing listens on it, else 0 (any free port). Checked the way the connector listens. */
function availableOr0(preferred: number): Promise<number> {
  if (preferred === 0) return Promise.resolve(0);
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(0) : reject(err)));
    probe.listen(preferred, '0.0.0.0', () => probe.close(() => resolve(preferred)));
  });
}

function note(wanted: number, got: number, name: string): void {
  if (wanted !== 0 && wanted !== got) console.log(`(port ${wanted} is busy: ${name} uses ${got} instead)`);
}

const demoPort = port('DEMO_PORT', 3000);
const mockPort = port('MOCK_STORE_PORT', 3001);

// A fresh database for this run, migrated like `npm run db:migrate` does.
mkdirSync(dataDir, { recursive: true });
for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${databaseFile}${suffix}`, { force: true });
const databaseUrl = `file:${databaseFile}`;
console.log('Starting the mock Magento store and the connector (a fresh database in data/demo/)...');
try {
  await migrate(databaseUrl);
} catch (err) {
  console.error(`Could not prepare the demo database: ${(err as Error).message}`);
  process.exit(1);
}

// The mock store first: it is the page the person opens.
const mock = createMockStore({ testMode: true });
let mockStarted: { adminUrl: string; port: number };
try {
  mockStarted = await mock.start(await availableOr0(mockPort));
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
  mockStarted = await mock.start(0); // taken between the check and the listen
}
note(mockPort, mockStarted.port, 'the mock store');

let running: RunningServer;
try {
  const connectorPort = await availableOr0(demoPort === mockStarted.port ? 0 : demoPort);
  const config = loadConfig({
    PORT: String(connectorPort),
    // Private store URLs are allowed for the mock store: so nothing but this machine may reach the demo.
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    // A key for this run only: the database is fresh too, so no secret sealed with it outlives the run.
    SECRETS_KEY: `demo:${randomBytes(32).toString('base64')}`,
    ALLOW_PRIVATE_STORE_URLS: 'true',
    LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
    DATA_DIR: dataDir,
  });
  running = await startServer(config);
  // The address the browser and the mock store use (the mock store listens on 127.0.0.1 as well).
  config.publicUrl = running.url;
  note(demoPort, Number(new URL(running.url).port), 'the connector');
} catch (err) {
  await mock.close();
  console.error(err instanceof ConfigError ? err.message : `Could not start the connector: ${(err as Error).message}`);
  process.exit(1);
}

const connectorUrl = running.url;
// Issue 13: an activation belongs to an account from its first request, so the demo merchant has an account already
// and the integration carries that account's own Callback and Identity Link URLs (as its account page shows them).
const DEMO_EMAIL = 'merchant@example.com';
const DEMO_PASSWORD = `demo-${randomBytes(6).toString('hex')}`;
const merchant = await running.services.accounts.signUp(DEMO_EMAIL, DEMO_PASSWORD);
mock.admin.create({ name: INTEGRATION_NAME, ...(await running.services.activation.activationUrls(merchant.id, connectorUrl)) });

console.log(`
Magento Connector demo: a mock Magento store and the connector, running here.

  Open ${mockStarted.adminUrl}

  1. Click Activate on "${INTEGRATION_NAME}" and sign in in the popup as ${DEMO_EMAIL}, password ${DEMO_PASSWORD}
     (the integration carries that account's own URLs; new accounts sign up at ${connectorUrl}/account/login,
     passwords of at least ${PASSWORD_MIN} characters).
  2. The popup closes and the grid shows Active; your connected store is on ${connectorUrl}/account

Ctrl-C stops both.`);

let stopping = false;
function stop(signal: string): void {
  if (stopping) {
    console.log(`\n${signal} again: exiting without waiting.`);
    process.exit(1);
  }
  stopping = true;
  console.log('\nStopping the connector and the mock store...');
  Promise.all([running.stop(), mock.close()]).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`Stopping failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
