import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// Prisma's CLI on these machines cannot download its Rust engines: the JS engine with a driver adapter does the work.
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: './schema.prisma',
  async adapter() {
    return new PrismaPg({
      connectionString: process.env.DATABASE_URL ?? '',
      // The CLI never closes this pool: without this it waits out the idle timeout (10 s) after its work is done.
      allowExitOnIdle: true,
      // A database that does not answer fails the command instead of hanging it.
      connectionTimeoutMillis: 10_000,
    });
  },
});
