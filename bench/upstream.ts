// The mock store as a benchmark upstream, in its own process: prints {"url": <store base URL>}.
import { createMockStore } from '../src/mock-store/app.js';

// MOCK_CALLBACK_TIMEOUT_MS: how long the store waits for the callback's answer (Magento's 5 s by default); the
// instruction count bench raises it for a connector slowed down by valgrind.
// MOCK_KEEP_ALIVE_MS: how long idle keep-alive connections stay open (node's 5 s by default); raised by that bench too.
const callbackTimeoutMs = process.env.MOCK_CALLBACK_TIMEOUT_MS ? Number(process.env.MOCK_CALLBACK_TIMEOUT_MS) : undefined;
const keepAliveTimeoutMs = process.env.MOCK_KEEP_ALIVE_MS ? Number(process.env.MOCK_KEEP_ALIVE_MS) : undefined;
const store = createMockStore({ testMode: true, onError: () => {}, ...(callbackTimeoutMs ? { callbackTimeoutMs } : {}), ...(keepAliveTimeoutMs ? { keepAliveTimeoutMs } : {}) });
const { baseUrl } = await store.start(0);
console.log(JSON.stringify({ url: baseUrl }));
process.on('SIGTERM', () => void store.close().then(() => process.exit(0)));
