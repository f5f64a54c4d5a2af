// .env.example and the README's configuration table document exactly the variables src/config.ts reads, and
// DATA_DIR moves the SQLite file unless DATABASE_URL is set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ENV_VARIABLES, loadConfig } from '../../src/config.js';
import { root } from './process.js';

test('.env.example names every setting config.ts reads, and nothing else', (t) => {
  const text = readFileSync(join(root, '.env.example'), 'utf8');
  const named = new Set([...text.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
  t.deepEqual([...named].sort(), [...ENV_VARIABLES].sort());
});

test("the README's configuration table names every setting config.ts reads", (t) => {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  const table = text.slice(text.indexOf('## Configuration'), text.indexOf('## Running the service'));
  const named = new Set([...table.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
  t.deepEqual([...named].sort(), [...ENV_VARIABLES].sort());
});

test('DATA_DIR holds the SQLite file unless DATABASE_URL is set', (t) => {
  t.is(loadConfig({}).databaseUrl, 'file:data/connector.db');
  t.is(loadConfig({ DATA_DIR: '/srv/connector' }).databaseUrl, 'file:/srv/connector/connector.db');
  t.is(loadConfig({ DATA_DIR: '/srv/connector', DATABASE_URL: 'file:/elsewhere.db' }).databaseUrl, 'file:/elsewhere.db');
  t.is(loadConfig({ DATA_DIR: '/srv/x', DATABASE_URL: 'postgresql://u@h/db' }).databaseUrl, 'postgresql://u@h/db');
});
