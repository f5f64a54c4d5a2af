// The command line on a fresh database of the chosen backend, run as a person runs it (a child process per
// command, test/cli/process.ts): the database and its DATA_DIR are removed when the test ends.
//
//   const cli = await cliOn(backend, t);
//   const created = await cli.run(['accounts', 'create', '--email', 'a@example.com'], 'a long enough password\n');
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { runCli, type Run } from '../cli/process.js';
import { testSecretsKey } from './connector.js';
import { freshDatabase, type Backend } from './db.js';

export interface Cli {
  databaseUrl: string;
  secretsKey: string;
  /** DATABASE_URL, SECRETS_KEY and DATA_DIR: for other processes (npm, a server) on the same database. */
  env: Record<string, string>;
  /** One CLI command to its end, with LOG_LEVEL set (default `warn`). */
  run(args: string[], stdin?: string): Promise<Run>;
}

export async function cliOn(backend: Backend, t: ExecutionContext, options: { logLevel?: string } = {}): Promise<Cli> {
  const database = await freshDatabase(backend);
  const dataDir = mkdtempSync(join(tmpdir(), 'connector-cli-'));
  t.teardown(async () => {
    await database.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });
  const secretsKey = testSecretsKey();
  const env = { DATABASE_URL: database.url, SECRETS_KEY: secretsKey, DATA_DIR: dataDir };
  const logLevel = options.logLevel ?? 'warn';
  return {
    databaseUrl: database.url,
    secretsKey,
    env,
    run: (args, stdin) => runCli(args, { ...env, LOG_LEVEL: logLevel }, stdin),
  };
}
