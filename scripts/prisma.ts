// Runs Prisma's CLI for the backend DATABASE_URL selects, with the settings these machines need (see
// docs/prisma-offline.md): the CLI tries to download engines at start unless both variables below name
// an existing file; with the JS engine neither file is ever run.
//   tsx scripts/prisma.ts [--provider sqlite|postgresql] <prisma args...>
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DATABASE_URL, providerOf, sqliteFileFromUrl, type Provider } from '../src/storage/database-url.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl };
let provider: Provider = providerOf(databaseUrl);
if (args[0] === '--provider') {
  provider = args[1] as Provider;
  args.splice(0, 2);
}
if (provider === 'sqlite' && databaseUrl.startsWith('file:')) {
  mkdirSync(dirname(sqliteFileFromUrl(databaseUrl)), { recursive: true });
}
const stand_in = `${root}package.json`;
env.PRISMA_QUERY_ENGINE_LIBRARY ??= stand_in;
env.PRISMA_SCHEMA_ENGINE_BINARY ??= stand_in;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
// Prisma 6.19's wasm schema engine arms a 10 s timer around taking PostgreSQL's migration advisory lock and never
// clears it, so every PostgreSQL command lingered 10 s after finishing. Timers armed from wasm are unref'd: they
// still fire while the command is alive (a lock wait keeps its connection open), but no longer keep it alive.
const unrefWasmTimers = `data:text/javascript,${encodeURIComponent(`
const setTimeout_ = globalThis.setTimeout;
globalThis.setTimeout = function (...args) {
  const timer = setTimeout_.apply(this, args);
  if (new Error().stack?.includes('wasm://')) timer.unref();
  return timer;
};`)}`;
const result = spawnSync(
  process.execPath,
  [
    '--import',
    unrefWasmTimers,
    `${root}node_modules/prisma/build/index.js`,
    ...args,
    '--config',
    `${root}prisma/${provider}/prisma.config.ts`,
  ],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
