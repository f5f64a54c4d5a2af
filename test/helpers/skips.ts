// Suites that cannot run on this machine (no PostgreSQL configured, no Chromium) are reported once per test run,
// not once per test or per file. Each test process records what it skipped in a folder shared by the run:
//   `npm test` (scripts/test.ts) names the folder in TEST_SKIP_DIR and prints one summary when ava is done;
//   `npx ava ...` directly: the folder is keyed on ava's process, and the first test process to skip for a reason
//   prints that reason, once.
// Under CI a missing dependency is never a skip: the helpers fail instead (see db.ts and browser.ts).
// No ava import here: scripts/test.ts reads these too.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const POSTGRES_SKIPPED = 'set TEST_POSTGRES_URL or run scripts/postgres.sh start';
/** Where Debian's package puts it; BROWSER_TEST_CHROMIUM points elsewhere (or at nothing, to see the skip). */
export const CHROMIUM_PATH = process.env.BROWSER_TEST_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_SKIPPED = `Chromium not installed (${CHROMIUM_PATH}): apt-get install chromium`;

export function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export interface SkipRecord {
  /** What was skipped, e.g. "the [postgresql] tests". */
  what: string;
  /** Why, and what to do about it. */
  reason: string;
  /** The test file, relative to the project. */
  file: string;
}

function skipDir(): { dir: string; summarised: boolean } {
  const named = process.env.TEST_SKIP_DIR;
  if (named) return { dir: named, summarised: true };
  return { dir: join(root, 'test-output', 'skips', `ava-${process.ppid}`), summarised: false };
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** Records that `file` skipped `what` for `reason`; without a summarising runner, prints the reason once per run. */
export function recordSkip(fileUrl: string, what: string, reason: string): void {
  const file = relative(root, fileUrl.startsWith('file:') ? fileURLToPath(fileUrl) : fileUrl);
  const { dir, summarised } = skipDir();
  mkdirSync(dir, { recursive: true });
  const record: SkipRecord = { what, reason, file };
  writeFileSync(join(dir, `${digest(what + reason)}-${digest(file)}.json`), JSON.stringify(record));
  if (summarised) return;
  try {
    writeFileSync(join(dir, `${digest(what + reason)}.printed`), '', { flag: 'wx' });
    console.log(`Skipped ${what} (here and in other files of this run): ${reason}`);
  } catch {
    // another test process of this run has said it already
  }
}

/** Every record in a run's folder. */
export function readSkips(dir: string): SkipRecord[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.json')).map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as SkipRecord);
}

/** The summary lines: one per reason, naming the files. */
export function summariseSkips(records: readonly SkipRecord[]): string[] {
  const groups = new Map<string, { what: string; reason: string; files: Set<string> }>();
  for (const r of records) {
    const key = `${r.what}\n${r.reason}`;
    const group = groups.get(key) ?? { what: r.what, reason: r.reason, files: new Set<string>() };
    group.files.add(r.file.replace(/^test\//, '').replace(/\.test\.ts$/, ''));
    groups.set(key, group);
  }
  return [...groups.values()].map(
    (g) => `Skipped ${g.what} of ${g.files.size} suite${g.files.size === 1 ? '' : 's'} (${[...g.files].sort().join(', ')}): ${g.reason}`,
  );
}
