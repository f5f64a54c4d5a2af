// Puts a SQLite file in WAL mode, so readers and one writer in different processes work at once. The mode is kept
// in the file: set once by the migrations (scripts/prisma.ts, after `migrate deploy`), checked again on every open.
//
// Why it retries: switching a file from the rollback journal to WAL upgrades a read to a write inside one statement,
// and when another connection holds the write lock at that moment SQLite answers SQLITE_BUSY at once, without
// waiting out the busy timeout (it would be a deadlock otherwise). Several processes opening a new file together
// (four `accounts create` at once, two workers starting) hit exactly that.
import Database from 'better-sqlite3';

const isBusy = (error: unknown) => /^SQLITE_BUSY/.test(String((error as { code?: unknown })?.code ?? ''));

/**
 * Makes sure `file` is in WAL mode, retrying a busy answer for up to `timeoutMs` in all. Reads the mode first, so a
 * file already in WAL (every migrated one) is never written to, and a read-only one still opens.
 */
export async function ensureWal(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const db = new Database(file, { timeout: timeoutMs });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        if (db.pragma('journal_mode', { simple: true }) === 'wal') return;
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (mode !== 'wal') throw new Error(`SQLite kept the journal mode "${String(mode)}" for ${file} instead of WAL`);
        return;
      } catch (error) {
        if (!isBusy(error) || Date.now() >= deadline) throw error;
        // The holder's write is short; waits grow a little and are jittered so that contenders do not retry together.
        await new Promise((resolve) => setTimeout(resolve, Math.min(10 * attempt, 100) * (0.5 + Math.random())));
      }
    }
  } finally {
    db.close();
  }
}
