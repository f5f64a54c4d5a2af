// Runs Prisma's CLI for the backend DATABASE_URL selects, with the settings these machines need (see
// docs/prisma-offline.md): the CLI tries to download engines at start unless both variables below name
// an existing file; with the JS engine neither file is ever run.
//   tsx scripts/prisma.ts [--provider sqlite|postgresql] <prisma args...>
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseUrlFromEnv, providerOf, sqliteFileFromUrl, type Provider } from '../src/storage/database-url.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const databaseUrl = databaseUrlFromEnv(); // DATABASE_URL, else $DATA_DIR/connector.db, as the server reads it
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
// Interactive commands keep the terminal; the others have Prisma's notes about our own setup taken out: they ask a
// person to act on things that are deliberate here (the url in the schema serves `prisma migrate diff`; the config
// file is how the JS engine is wired).
const interactive = args[0] === 'studio' || (args[0] === 'migrate' && (args[1] === 'dev' || args[1] === 'reset'));
const NOISE = [
  /\n?WARNING: Your schema specifies the following datasource properties but you are using a Driver Adapter[^\n]*\n(- [^\n]*\n)*\s*The values from your schema will NOT be used!\s*We recommend you to remove those properties[^\n]*\n/g,
  /^Loaded Prisma config from [^\n]*\n+/gm,
  /^Prisma config detected, skipping environment variable loading\.?\n*/gm,
];
const quiet = (text: string) => NOISE.reduce((t, pattern) => t.replace(pattern, ''), text);
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
  { stdio: interactive ? 'inherit' : ['inherit', 'pipe', 'pipe'], env, maxBuffer: 64 * 1024 * 1024 },
);
// Prisma's wasm engine cannot name SQLite's "database is locked" (SQLITE_BUSY once the busy timeout ran out): it
// prints a stack about an unknown variant `SocketTimeout`. Migrations need the file to themselves.
const BUSY = /unknown variant `SocketTimeout`/;
if (!interactive) {
  const stdout = quiet(result.stdout?.toString('utf8') ?? '');
  const stderr = quiet(result.stderr?.toString('utf8') ?? '');
  process.stdout.write(stdout);
  if (result.status !== 0 && provider === 'sqlite' && BUSY.test(stderr + stdout)) {
    process.stderr.write(
      `the SQLite database ${sqliteFileFromUrl(databaseUrl)} is busy: another process holds it (a running server?). ` +
        'Stop the servers that use it, then run npm run db:migrate again (npm start applies migrations itself).\n',
    );
  } else {
    process.stderr.write(stderr);
  }
}
if (result.error) console.error(`could not run Prisma's CLI: ${result.error.message}`);
// A migrated SQLite file is left in WAL mode (kept in the file), so the processes that open it next never have to
// switch it at the same moment (src/storage/sqlite-wal.ts). Imported only here: the other commands (db:generate)
// do not need the native driver.
if (result.status === 0 && provider === 'sqlite' && args[0] === 'migrate' && args[1] === 'deploy') {
  const { ensureWal } = await import('../src/storage/sqlite-wal.js');
  try {
    await ensureWal(sqliteFileFromUrl(databaseUrl), 5_000);
  } catch (error) {
    console.error(`migrations applied, but the SQLite file could not be put in WAL mode: ${(error as Error).message}`);
    process.exit(1);
  }
}
process.exit(result.status ?? 1);
