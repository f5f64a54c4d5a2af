// The project's root directory (package.json, views/, prisma/, scripts/): the first directory above this module that
// holds package.json. Found by walking up rather than by a fixed `../..`, because `npm start` runs the compiled copy
// of src/ from `.build/<hash>/` (scripts/start.mjs), one level deeper than src/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** Absolute path of the project root, without a trailing slash. */
export const projectRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
