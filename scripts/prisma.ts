// Runs Prisma's CLI for the backend DATABASE_URL selects, with the settings these machines need (see
// ../shared/notes/prisma-offline.md): the CLI tries to download engines at start unless both variables below name
// an existing file; with the JS engine neither file is ever run.
//   tsx scripts/prisma.ts [--provider sqlite|postgresql] <prisma args...>
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DATABASE_URL, providerOf, sqliteFileFromUrl, type Provider } from '../src/storage/database-url.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const env = { ...process.env, DATABASE_URL: process.env.DATABASE_URL || DEFAULT_DATABASE_URL };
let provider: Provider = providerOf(env.DATABASE_URL);
if (args[0] === '--provider') {
  provider = args[1] as Provider;
  args.splice(0, 2);
}
if (provider === 'sqlite' && env.DATABASE_URL.startsWith('file:')) {
  mkdirSync(dirname(sqliteFileFromUrl(env.DATABASE_URL)), { recursive: true });
}
const stand_in = `${root}package.json`;
env.PRISMA_QUERY_ENGINE_LIBRARY ??= stand_in;
env.PRISMA_SCHEMA_ENGINE_BINARY ??= stand_in;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const result = spawnSync(
  process.execPath,
  [`${root}node_modules/prisma/build/index.js`, ...args, '--config', `${root}prisma/${provider}/prisma.config.ts`],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
