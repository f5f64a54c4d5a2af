// DATABASE_URL selects the backend: `postgresql://` (or `postgres://`) is PostgreSQL, `file:` is SQLite.
import { isAbsolute, resolve } from 'node:path';

export type Provider = 'sqlite' | 'postgresql';

export const DEFAULT_DATABASE_URL = 'file:./data/connector.db';

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
