#!/usr/bin/env node
// `npx magento-connector <command>`: runs the TypeScript CLI through tsx (no build step needed).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), `${root}src/cli/main.ts`, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: process.cwd(),
});
process.exit(result.status ?? 1);
