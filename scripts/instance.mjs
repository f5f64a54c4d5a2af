// A connector process for multi-instance tests and benchmarks: migrates the database DATABASE_URL names, starts the
// server on PORT (0 = any free port), prints {"url": ...} on one line, and runs until killed. Settings come from
// the environment like `npm start`; INSTANCE_DURATIONS / INSTANCE_LIMITS / INSTANCE_WEBHOOKS / INSTANCE_PROBES (JSON)
// override durations, limits, webhook and probe settings, so tests can shorten Magento's windows;
// INSTANCE_SKIP_MIGRATE=true skips the migration; INSTANCE_HEAP_POLICY=true starts npm start's old-generation
// growth policy with HEAP_BUDGET_MB (src/heap.ts; bench/proxy-ab.ts BASE_NPM_START / THIS_NPM_START).
// Plain JavaScript on the compiled copy of src/ (scripts/compiled.mjs), as `npm start` runs: a test starts dozens
// of these, and tsx's loader doubles each one's start.
import { importCompiled } from './compiled.mjs';

const [{ startServer }, { loadConfig }, { migrate }] = await Promise.all([
  importCompiled('app'),
  importCompiled('config'),
  importCompiled('storage/db'),
]);

const config = loadConfig({ LOG_LEVEL: 'warn', PORT: '0', ...process.env });
const overrides = { INSTANCE_DURATIONS: 'durations', INSTANCE_LIMITS: 'limits', INSTANCE_WEBHOOKS: 'webhooks', INSTANCE_PROBES: 'probes' };
for (const [name, part] of Object.entries(overrides)) {
  if (process.env[name]) Object.assign(config[part], JSON.parse(process.env[name]));
}
// Tests hand over an already migrated database; running Prisma's CLI costs a second or two per instance.
if (process.env.INSTANCE_SKIP_MIGRATE !== 'true') await migrate(config.databaseUrl);
const running = await startServer(config);
if (process.env.INSTANCE_HEAP_POLICY === 'true') (await importCompiled('heap')).startHeapPolicy(config.heapBudgetBytes);
config.publicUrl = process.env.PUBLIC_URL ?? running.url;
console.log(JSON.stringify({ url: running.url }));
const stop = () => void running.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
