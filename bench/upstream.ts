// The mock store as a benchmark upstream, in its own process: prints {"url": <store base URL>}.
import { createMockStore } from '../src/mock-store/app.js';

// MOCK_CALLBACK_TIMEOUT_MS: how long the store waits for the callback's answer (Magento's 5 s by default); the
// instruction count bench raises it for a connector slowed down by valgrind.
const callbackTimeoutMs = process.env.MOCK_CALLBACK_TIMEOUT_MS ? Number(process.env.MOCK_CALLBACK_TIMEOUT_MS) : undefined;
const store = createMockStore({ testMode: true, onError: () => {}, ...(callbackTimeoutMs ? { callbackTimeoutMs } : {}) });
const { baseUrl } = await store.start(0);
console.log(JSON.stringify({ url: baseUrl }));
process.on('SIGTERM', () => void store.close().then(() => process.exit(0)));
