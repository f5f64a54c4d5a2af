// The common-password rule (src/accounts/passwords.ts) against zxcvbn's list itself: every entry long enough to pass
// the length rule is refused, in any case and with spaces around it; nothing else matches by accident.
import { dictionary } from '@zxcvbn-ts/language-common';
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { PASSWORD_MAX, PASSWORD_MIN, passwordProblem } from '../../src/accounts/passwords.js';

const COMMON = /list of common passwords/;
const long = (dictionary['passwords-common'] as string[]).filter((p) => [...p].length >= PASSWORD_MIN && [...p].length <= PASSWORD_MAX && p.trim() !== '' && new Set(p).size > 1);

test('every long enough entry of the list is refused, the first and the last included, whatever its case', (t) => {
  t.true(long.length > 1000);
  const refused = long.filter((p) => COMMON.test(passwordProblem(p) ?? ''));
  t.is(refused.length, long.length);
  t.regex(passwordProblem(long[0]!.toUpperCase()) ?? '', COMMON);
  t.regex(passwordProblem(`  ${long.at(-1)!}  `) ?? '', COMMON);
});

test('only whole entries match: two entries joined by a line break, a part of one, or one with a letter more pass', (t) => {
  const [a, b] = [long[0]!, long[1]!];
  t.is(passwordProblem(`${a}\n${b}`), null);
  t.is(passwordProblem(`q${a}x`), null);
  t.is(passwordProblem('correct horse battery staple'), null);
});

test("the list's package is not kept loaded after the first check: no module of it or of what it required stays cached", (t) => {
  // In a process of its own: this file imports the package itself, and a module someone else loaded is left alone.
  const code = [
    "import { createRequire } from 'node:module';",
    `const { passwordProblem } = await import(${JSON.stringify(new URL('../../src/accounts/passwords.ts', import.meta.url).href)});`,
    "if (passwordProblem('password1234') === null) throw new Error('not refused');",
    "console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('zxcvbn'))));",
  ].join('\n');
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  t.is(run.status, 0, run.stderr);
  t.deepEqual(JSON.parse(run.stdout), []);
});
