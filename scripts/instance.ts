// A connector process for multi-instance tests and benchmarks: migrates the database DATABASE_URL names, starts the
// server on PORT (0 = any free port), prints {"url": ...} on one line, and runs until killed. Settings come from
// the environment like `npm start`; INSTANCE_DURATIONS / INSTANCE_LIMITS (JSON) override durations and limits, so
// tests can shorten Magento's windows; INSTANCE_SKIP_MIGRATE=true skips the migration.
import { startServer } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { migrate } from '../src/storage/db.js';

const config = loadConfig({ LOG_LEVEL: 'warn', PORT: '0', ...process.env });
if (process.env.INSTANCE_DURATIONS) Object.assign(config.durations, JSON.parse(process.env.INSTANCE_DURATIONS));
if (process.env.INSTANCE_LIMITS) Object.assign(config.limits, JSON.parse(process.env.INSTANCE_LIMITS));
if (process.env.INSTANCE_WEBHOOKS) Object.assign(config.webhooks, JSON.parse(process.env.INSTANCE_WEBHOOKS)); // crm
if (process.env.INSTANCE_PROBES) Object.assign(config.probes, JSON.parse(process.env.INSTANCE_PROBES)); // revocation probes
// Tests hand over an already migrated database; running Prisma's CLI costs a second or two per instance.
if (process.env.INSTANCE_SKIP_MIGRATE !== 'true') await migrate(config.databaseUrl);
const running = await startServer(config);
config.publicUrl = process.env.PUBLIC_URL ?? running.url;
console.log(JSON.stringify({ url: running.url }));
const stop = () => void running.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
