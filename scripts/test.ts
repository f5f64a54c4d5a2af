// `npm test` (after the type check): runs ava with the arguments given (`npm test -- test/cli` runs one folder),
// then lists once which suites were skipped on this machine and why (no PostgreSQL configured, no Chromium),
// instead of a line per test. Under CI a missing dependency fails the run (the helpers see to it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH, CHROMIUM_SKIPPED, inCi, readSkips, summariseSkips, type SkipRecord } from '../test/helpers/skips.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const ava = join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'); // ava's bin (its package.json is not exported)

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

const args = process.argv.slice(2);
const skipped: SkipRecord[] = [];
// Without Chromium (and outside CI) the browser files are left out: ava would report each as a skipped test.
// Explicit file arguments are passed as they are.
const patterns = args.filter((a) => !a.startsWith('-'));
if (!patterns.length && !existsSync(CHROMIUM_PATH) && !inCi()) {
  const all = testFiles(join(root, 'test')).sort();
  const browser = all.filter((f) => f.startsWith(join('test', 'browser')));
  if (browser.length) {
    args.push(...all.filter((f) => !browser.includes(f)));
    for (const file of browser) skipped.push({ what: 'the browser tests', reason: CHROMIUM_SKIPPED, file });
  }
}

mkdirSync(join(root, 'test-output'), { recursive: true });
const dir = mkdtempSync(join(root, 'test-output', 'skips-'));
const result = spawnSync(process.execPath, [ava, ...args], { cwd: root, stdio: 'inherit', env: { ...process.env, TEST_SKIP_DIR: dir } });
skipped.push(...readSkips(dir));
rmSync(dir, { recursive: true, force: true });
for (const line of summariseSkips(skipped)) console.log(line);
process.exit(result.status ?? 1);
