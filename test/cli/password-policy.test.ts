// The command line's `accounts create` applies the same password policy as the sign-up form: a common password,
// one repeated character or only whitespace is refused with what to do, and no account is created.
import { cliOn } from '../helpers/cli.js';
import { forEachBackend, rawQuery } from '../helpers/db.js';

forEachBackend((backend, test) => {
  test('accounts create refuses a common password, a repeated character and whitespace; a good one works', async (t) => {
    const cli = await cliOn(backend, t, { logLevel: 'error' });
    const refused: [string, RegExp][] = [
      ['1234567890', /list of common passwords/],
      ['iloveyou12', /list of common passwords/],
      ['zzzzzzzzzzzz', /one repeated character/],
      ['            ', /only spaces/],
    ];
    const runs = await Promise.all(refused.map(([password], i) => cli.run(['accounts', 'create', '--email', `weak${i}@example.com`, '--password', password])));
    for (const [i, run] of runs.entries()) {
      t.not(run.code, 0, refused[i]![0]);
      t.regex(run.stderr, refused[i]![1], run.stderr);
    }
    t.deepEqual(await rawQuery(backend, cli.databaseUrl, 'SELECT "email" FROM "Account"'), [], 'no account was created');
    const ok = await cli.run(['accounts', 'create', '--email', 'good@example.com', '--password', 'a long enough passphrase']);
    t.is(ok.code, 0, ok.stderr);
  });
});
