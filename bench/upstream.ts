// The mock store as a benchmark upstream, in its own process: prints {"url": <store base URL>}.
import { createMockStore } from '../src/mock-store/app.js';

const store = createMockStore({ testMode: true, onError: () => {} });
const { baseUrl } = await store.start(0);
console.log(JSON.stringify({ url: baseUrl }));
process.on('SIGTERM', () => void store.close().then(() => process.exit(0)));
