// The command line's `accounts create` applies the same password policy as the sign-up form: a common password,
// one repeated character or only whitespace is refused with what to do, and no account is created.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testSecretsKey } from '../helpers/connector.js';
import { forEachBackend, freshDatabase, rawQuery } from '../helpers/db.js';
import { root } from './process.js';

function cli(env: NodeJS.ProcessEnv, args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

forEachBackend((backend, test) => {
  test('accounts create refuses a common password, a repeated character and whitespace; a good one works', async (t) => {
    const database = await freshDatabase(backend);
    const dataDir = mkdtempSync(join(tmpdir(), 'connector-cli-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url, SECRETS_KEY: testSecretsKey(), DATA_DIR: dataDir, LOG_LEVEL: 'error' };
    delete env.NODE_OPTIONS;
    const refused: [string, RegExp][] = [
      ['1234567890', /list of common passwords/],
      ['iloveyou12', /list of common passwords/],
      ['zzzzzzzzzzzz', /one repeated character/],
      ['            ', /only spaces/],
    ];
    const runs = await Promise.all(refused.map(([password], i) => cli(env, ['accounts', 'create', '--email', `weak${i}@example.com`, '--password', password])));
    for (const [i, run] of runs.entries()) {
      t.not(run.code, 0, refused[i]![0]);
      t.regex(run.stderr, refused[i]![1], run.stderr);
    }
    t.deepEqual(await rawQuery(backend, database.url, 'SELECT "email" FROM "Account"'), [], 'no account was created');
    const ok = await cli(env, ['accounts', 'create', '--email', 'good@example.com', '--password', 'a long enough passphrase']);
    t.is(ok.code, 0, ok.stderr);
  });
});
