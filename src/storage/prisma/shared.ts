// What the per-repository files share: the client type both providers' generated clients fit, the conditional
// single-row update, and the wrapper that turns "database down" into StorageUnavailableError.
import type { PrismaClient as SqliteClient } from '../generated/sqlite/client.js';
import { isNotFound, toStorageError } from '../errors.js';
import type { Page, PageCursor } from '../types.js';

/**
 * The model API both generated clients share. The PostgreSQL client is typed as the SQLite one: their model
 * delegates are generated from the same models.prisma and differ only in provider-internal types this code never
 * touches (db.ts does the cast).
 */
export type Db = SqliteClient;

export const byCreation = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];

/**
 * Rows after a page cursor in (createdAt, id) order. Written as `createdAt >= c AND (createdAt > c OR id > i)`, so
 * both databases start the index range at c instead of testing an OR over the whole index.
 */
export function afterCursor(after: PageCursor | null | undefined): { createdAt?: { gte: Date }; OR?: object[] } {
  if (!after) return {};
  return { createdAt: { gte: after.createdAt }, OR: [{ createdAt: { gt: after.createdAt } }, { id: { gt: after.id } }] };
}

/** A page from `limit + 1` rows read in creation order: the extra row only says there is a next page. */
export function pageOf<R extends { createdAt: Date; id: string }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return { items: kept.map(map), next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}

/**
 * A conditional single-row update (`update` with extra filters in `where`), null when no row matched. Used instead
 * of updateMany everywhere: Prisma wraps updateMany in a transaction, and on SQLite a transaction holds the write
 * lock across an await, which stalls every other connection, in the worst case this very process's.
 */
export async function updated<T>(update: Promise<T>): Promise<T | null> {
  try {
    return await update;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Wraps every method so that "database down" errors come out as StorageUnavailableError. */
export function guarded<T extends object>(repository: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(repository)) {
    wrapped[name] =
      typeof value === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await value.apply(repository, args);
            } catch (error) {
              throw toStorageError(error);
            }
          }
        : value;
  }
  return wrapped as T;
}
