// `npm run mock-store`: the mock Magento store alone, with its test/development knobs on.
import { createMockStore } from './app.js';
import { VERIFIER_NAMES, VERIFIER_RELEASES, isVerifierName } from './verifiers.js';

const port = Number(process.env.MOCK_STORE_PORT ?? 3001);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`MOCK_STORE_PORT must be a port number, got "${process.env.MOCK_STORE_PORT}"`);
  process.exit(1);
}

const verifier = process.env.MOCK_STORE_VERIFIER || 'laminas';
if (!isVerifierName(verifier)) {
  console.error(`MOCK_STORE_VERIFIER must be one of ${VERIFIER_NAMES.join(', ')}, got "${verifier}"`);
  process.exit(1);
}

const store = createMockStore({
  testMode: true,
  indexPhp: process.env.MOCK_STORE_INDEX_PHP === 'true',
  verifier,
  allowIntegrationBearer: process.env.MOCK_STORE_ALLOW_BEARER === 'true',
});
try {
  const { baseUrl, adminUrl } = await store.start(port);
  console.log(`Mock Magento store: ${baseUrl}`);
  console.log(`Admin (Integrations): ${adminUrl}`);
  console.log(`Signature verifier: ${verifier} (Magento ${VERIFIER_RELEASES[verifier]})`);
  console.log(`Test knobs: ${new URL('/__mock/requests', baseUrl).href} (clock, faults, requests, signatures)`);
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  console.error(
    err.code === 'EADDRINUSE' ? `Port ${port} is in use: set MOCK_STORE_PORT to a free port.` : `Could not start: ${err.message}`,
  );
  process.exit(1);
}

const stop = (): void => {
  void store.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
