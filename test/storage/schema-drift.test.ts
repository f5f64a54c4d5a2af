// prisma/models.prisma is the one source of the data model. This fails when
//   - prisma/{sqlite,postgresql}/schema.prisma differ from what scripts/prisma-schemas.ts renders from it
//     (fix: npm run db:schemas);
//   - the two providers' migration folders do not hold the same migrations;
//   - a provider's migrations do not build the database its schema describes (fix: write the missing migration,
//     README "Changing the data model").
// The last check compares the live catalogs of two databases: one built by the provider's migrations (through
// `prisma migrate deploy`, the way production gets them), one built by `prisma migrate diff --from-empty
// --to-schema-datamodel <schema> --script`. Prisma's own ways of diffing a database or a migrations folder
// against a schema (--from-migrations, --from-url, --from-schema-datasource, and db pull on PostgreSQL) do not work
// with the driver adapters these machines need (docs/prisma-offline.md); schema-to-schema diff does.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { providers, renderSchema } from '../../scripts/prisma-schemas.js';
import { emptyDatabase, executeScript, forEachBackend, freshDatabase, rawQuery, type Backend } from '../helpers/db.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

for (const provider of providers) {
  test(`prisma/${provider}/schema.prisma is what npm run db:schemas writes from prisma/models.prisma`, (t) => {
    const current = readFileSync(join(root, 'prisma', provider, 'schema.prisma'), 'utf8');
    t.is(current, renderSchema(provider), `prisma/${provider}/schema.prisma is out of date: run npm run db:schemas`);
  });
}

function migrationNames(provider: Backend): string[] {
  return readdirSync(join(root, 'prisma', provider, 'migrations'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

test('both providers have the same migrations, each a folder with a migration.sql, and the right lock file', (t) => {
  const sqlite = migrationNames('sqlite');
  t.true(sqlite.length > 0);
  t.deepEqual(migrationNames('postgresql'), sqlite, 'every migration needs a SQLite and a PostgreSQL version, under the same name');
  for (const provider of providers) {
    for (const name of migrationNames(provider)) {
      t.regex(name, /^\d{14}_[a-z0-9_]+$/, `prisma/${provider}/migrations/${name}`);
      t.notThrows(() => readFileSync(join(root, 'prisma', provider, 'migrations', name, 'migration.sql')), `${provider}/${name}/migration.sql`);
    }
    const lock = readFileSync(join(root, 'prisma', provider, 'migrations', 'migration_lock.toml'), 'utf8');
    t.regex(lock, new RegExp(`^provider = "${provider}"$`, 'm'));
  }
});

forEachBackend((backend, test) => {
  test('the migrations build exactly the database the schema describes', async (t) => {
    const [migrated, fromSchema, script] = await Promise.all([freshDatabase(backend), emptyDatabase(backend), schemaScript(backend)]);
    t.teardown(() => migrated.drop());
    t.teardown(() => fromSchema.drop());
    await executeScript(backend, fromSchema.url, script);
    const [actual, expected] = await Promise.all([describe(backend, migrated.url), describe(backend, fromSchema.url)]);
    t.true(expected.tables.length >= 5, 'the schema produced tables');
    t.deepEqual(actual, expected, `prisma/${backend}/migrations do not produce prisma/${backend}/schema.prisma: add a migration`);
  });
});

/** The SQL that builds the provider's schema from nothing (`prisma migrate diff --from-empty`). */
async function schemaScript(provider: Backend): Promise<string> {
  const out = join(mkdtempSync(join(tmpdir(), 'schema-drift-')), `${provider}.sql`);
  // The CLI opens its adapter even for a schema-to-schema diff: it needs a database it can reach.
  const databaseUrl = provider === 'sqlite' ? `file:${out}.db` : process.env.TEST_POSTGRES_URL!;
  const schema = join(root, 'prisma', provider, 'schema.prisma');
  await promisify(execFile)(
    process.execPath,
    [tsxCli, join(root, 'scripts/prisma.ts'), '--provider', provider, 'migrate', 'diff', '--from-empty', '--to-schema-datamodel', schema, '--script', '-o', out],
    { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 60_000 },
  );
  return readFileSync(out, 'utf8');
}


interface Catalog {
  tables: string[];
  columns: unknown[];
  indexes: unknown[];
  constraints: unknown[];
}

/** The database's structure, order-independent (a column added by a later migration sits last in its table). */
async function describe(backend: Backend, url: string): Promise<Catalog> {
  const q = (sql: string) => rawQuery(backend, url, sql);
  const normal = (rows: Record<string, unknown>[]) =>
    rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))).sort();
  if (backend === 'sqlite') {
    const tables = (await q(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'`)).map(
      (r) => String(r.name),
    );
    const per = async (sql: (table: string) => string) =>
      normal((await Promise.all(tables.map(async (table) => (await q(sql(table))).map((r) => ({ table, ...r }))))).flat());
    return {
      tables: tables.sort(),
      columns: await per((x) => `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info('${x}')`),
      indexes: await per(
        (x) =>
          `SELECT il.name, il."unique", il.origin, group_concat(ii.name, ',') AS columns FROM pragma_index_list('${x}') il ` +
          `JOIN pragma_index_info(il.name) ii GROUP BY il.name, il."unique", il.origin`,
      ),
      constraints: await per((x) => `SELECT "table" AS target, "from", "to", on_update, on_delete, "match" FROM pragma_foreign_key_list('${x}')`),
    };
  }
  // ::text throughout: the PostgreSQL adapter cannot read the catalogs' own types (name, char, sql_identifier...).
  const mine = `table_schema = current_schema() AND table_name <> '_prisma_migrations'`;
  return {
    tables: (await q(`SELECT table_name::text AS name FROM information_schema.tables WHERE ${mine}`)).map((r) => String(r.name)).sort(),
    columns: normal(
      await q(
        `SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, column_default::text,
                character_maximum_length::text, numeric_precision::text, datetime_precision::text
           FROM information_schema.columns WHERE ${mine}`,
      ),
    ),
    indexes: normal(
      await q(`SELECT tablename::text, indexname::text, indexdef::text FROM pg_indexes WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations'`),
    ),
    constraints: normal(
      await q(
        `SELECT conrelid::regclass::text AS "table", conname::text AS name, pg_get_constraintdef(oid)::text AS definition
           FROM pg_constraint WHERE connamespace = current_schema()::regnamespace AND conrelid::regclass::text <> '_prisma_migrations'`,
      ),
    ),
  };
}
