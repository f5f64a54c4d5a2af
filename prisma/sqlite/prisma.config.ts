import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { defineConfig } from 'prisma/config';
import { sqliteFileFromUrl } from '../../src/storage/database-url.js';

// Prisma's CLI on these machines cannot download its Rust engines: the JS engine with a driver adapter does the work.
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: './schema.prisma',
  async adapter() {
    // A busy timeout, so a migration next to a running server waits for its write instead of failing at once.
    return new PrismaBetterSQLite3({ url: sqliteFileFromUrl(process.env.DATABASE_URL ?? ''), timeout: 5_000 });
  },
});
