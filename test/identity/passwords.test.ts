// The common-password rule (src/accounts/passwords.ts) against zxcvbn's list itself: every entry long enough to pass
// the length rule is refused, in any case and with spaces around it; nothing else matches by accident.
import { dictionary } from '@zxcvbn-ts/language-common';
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
