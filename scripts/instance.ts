// A connector process for benchmarks: migrates the database named by DATABASE_URL, starts the server on a free port,
// prints {"url": ...} on one line, and runs until killed.
import { startServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { migrate } from '../../src/storage/db.js';

const config = loadConfig({ LOG_LEVEL: 'warn', PORT: '0', ALLOW_PRIVATE_STORE_URLS: 'true', ...process.env });
await migrate(config.databaseUrl);
const running = await startServer(config);
config.publicUrl = running.url;
console.log(JSON.stringify({ url: running.url }));
const stop = () => void running.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
