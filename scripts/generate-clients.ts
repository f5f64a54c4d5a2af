// Generates both Prisma clients into src/storage/generated/ (ignored by git) and stamps them with a hash of the two
// schemas they were generated from.
//   tsx scripts/generate-clients.ts             always (npm run db:generate, and npm install's postinstall)
//   tsx scripts/generate-clients.ts --if-stale  only when the schemas differ from the stamp (npm run typecheck: after a
//                                               pull that changed the data model, the old clients would not type-check)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const providers = ['sqlite', 'postgresql'] as const;
const stamp = `${root}src/storage/generated/schemas.sha256`;
const hash = createHash('sha256');
for (const provider of providers) hash.update(readFileSync(`${root}prisma/${provider}/schema.prisma`));
const current = hash.digest('hex');

if (process.argv.includes('--if-stale') && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === current) process.exit(0);
for (const provider of providers) {
  // Prisma's own output is noise here; its errors go to stderr.
  const run = spawnSync(process.execPath, ['--import', 'tsx', `${root}scripts/prisma.ts`, '--provider', provider, 'generate'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
writeFileSync(stamp, `${current}\n`);
