// DATABASE_URL selects the backend: `postgresql://` (or `postgres://`) is PostgreSQL, `file:` is SQLite.
import { isAbsolute, join, resolve } from 'node:path';

export type Provider = 'sqlite' | 'postgresql';

export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_DATABASE_URL = 'file:./data/connector.db';

/** Without DATABASE_URL: the SQLite file in DATA_DIR (so DATA_DIR moves the database and the key file together). */
export function defaultDatabaseUrl(dataDir: string = DEFAULT_DATA_DIR): string {
  return `file:${join(dataDir, 'connector.db')}`;
}

/** DATABASE_URL, or the default built from DATA_DIR, as the server, the CLI and `npm run db:migrate` all read it. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATABASE_URL || defaultDatabaseUrl(env.DATA_DIR || DEFAULT_DATA_DIR);
}

export function providerOf(url: string): Provider {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgresql';
  if (url.startsWith('file:')) return 'sqlite';
  throw new Error(`DATABASE_URL must start with file: (SQLite) or postgresql:// (PostgreSQL), got "${url.split(':')[0]}:..."`);
}

/** The file path of a `file:` URL, relative paths taken from the working directory. */
export function sqliteFileFromUrl(url: string): string {
  const path = url.replace(/^file:/, '').replace(/\?.*$/, '');
  if (!path) throw new Error('DATABASE_URL file: URL names no file');
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}
