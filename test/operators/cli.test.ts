// `operator-keys create | list | revoke` run as a person runs them (child processes on a fresh database): the key
// printed alone on its own line, only its hash stored, working against a running connector on the same database
// until revoked; bad usage exits 2 with the usage text.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callApi } from '../helpers/activated.js';
import { startConnector, testSecretsKey } from '../helpers/connector.js';
import { forEachBackend, freshDatabase, rawQuery } from '../helpers/db.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runner(env: NodeJS.ProcessEnv) {
  return (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, env, stdio: 'pipe' });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end();
    });
}

forEachBackend((backend, test) => {
  test('operator-keys create prints the key once; list shows it; the key works until revoke', async (t) => {
    const database = await freshDatabase(backend);
    const dataDir = mkdtempSync(join(tmpdir(), 'connector-cli-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const secretsKey = testSecretsKey();
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url, SECRETS_KEY: secretsKey, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    delete env.NODE_OPTIONS;
    const run = runner(env);

    const created = await run(['operator-keys', 'create', '--name', 'CRM backend']);
    t.is(created.code, 0, created.stderr);
    t.regex(created.stdout, /^mco_[A-Za-z0-9_-]{43}\n$/, 'the key alone on its own line');
    const key = created.stdout.trim();
    t.regex(created.stderr, /shown only now/);
    const rows = await rawQuery(backend, database.url, 'SELECT "hash" FROM "OperatorKey"');
    t.deepEqual(rows.map((r) => r.hash), [createHash('sha256').update(key).digest('hex')], 'only the SHA-256 is stored');

    const listed = await run(['operator-keys', 'list', '--json']);
    t.is(listed.code, 0, listed.stderr);
    const [entry] = JSON.parse(listed.stdout) as { id: string; name: string; prefix: string; revokedAt: string | null }[];
    t.like(entry, { name: 'CRM backend', prefix: key.slice(0, 10), revokedAt: null });
    t.false(listed.stdout.includes(key));

    const connector = await startConnector(backend, t, { databaseUrl: database.url, secretsKey, limits: { cacheTtlMs: 1 } });
    t.is((await callApi(`${connector.url}/api/accounts`, 'GET', key)).status, 200);

    const revoked = await run(['operator-keys', 'revoke', '--id', entry!.id]);
    t.is(revoked.code, 0, revoked.stderr);
    connector.clock.advance(2);
    t.is((await callApi(`${connector.url}/api/accounts`, 'GET', key)).status, 401);
    t.is((await run(['operator-keys', 'revoke', '--id', entry!.id])).code, 1, 'revoked already');
    t.regex((await run(['operator-keys', 'list'])).stdout, /CRM backend {2}\(revoked /);

    for (const args of [['operator-keys', 'create'], ['operator-keys', 'revoke'], ['operator-keys', 'rotate']]) {
      const bad = await run(args);
      t.is(bad.code, 2, args.join(' '));
      t.regex(bad.stderr, /operator-keys create --name N/);
      t.is(bad.stdout, '');
    }
  });
});
