// Incremental reads: every entity of a search endpoint changed at or after `since`, ordered by the field (updated_at)
// then by id. Magento pages by offset, so an entity saved while the read runs would shift every later page (one
// item skipped, another seen twice). Instead every page is page 1 of "field >= the last value seen, minus the ids
// already seen at exactly that value": a moving lower bound, deduplicated on the boundary, answered by Magento as
// filter groups (AND of ORs):  [field gteq v]  AND  [field gt v  OR  id nin (ids seen at v)].
// An entity saved while the read runs moves past the bound and is read (again, if it was read before: that is a
// new change). The walk ends when a page holds all `total_count` items that remain, never on an empty page.
import type { QueryObject, QueryValue } from '../protocol/query.js';
import { ChangesStalledError, RequestRefusedError } from './errors.js';

/** Where a read stopped: give it back as `cursor` to read only what changed since. JSON-serialisable. */
export interface ChangesCursor {
  field: string;
  /** The last value of `field` read (Magento's 'Y-m-d H:i:s'), null before anything was read and without `since`. */
  value: string | null;
  /** The ids already read whose field is exactly `value`. */
  ids: Array<number | string>;
}

export interface ChangesOptions {
  /** Read what changed at or after this ('Y-m-d H:i:s' in the store's UTC, or a Date); none = everything. */
  since?: string | Date;
  /** The field to follow; `updated_at` by default. */
  field?: string;
  /** Items per page; Magento's maximum page size (300) by default. */
  pageSize?: number;
  /** The entity's id field: `entity_id` for orders (V1/orders), `id` otherwise, unless given. */
  idField?: string;
  /** Resume from a cursor a previous read returned (`since` is then ignored). */
  cursor?: ChangesCursor;
  /** More filter groups (ANDed with the bound), as in searchCriteria. */
  filterGroups?: QueryValue[];
  storeCode?: string;
  signal?: AbortSignal;
}

export interface ChangesPage<T> {
  items: T[];
  total_count?: number;
}

export type ChangeFeed<T> = AsyncGenerator<T, ChangesCursor, undefined> & {
  /** The cursor to resume from, as of the last item yielded. */
  readonly cursor: ChangesCursor;
};

export const MAGENTO_MAX_PAGE_SIZE = 300;
// Ids in one `nin` filter at most (they go into the URL); a larger tie on one value continues by id order instead.
const MAX_BOUNDARY_IDS = 200;

/** 'Y-m-d H:i:s' (UTC) as Magento stores and compares updated_at. */
export function magentoDateTime(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

export function defaultIdField(path: string): string {
  return /(^|\/)V\d+\/orders\/?$/.test(path.replace(/^\/+/, '').replace(/^[a-z][a-z0-9_]*\/(?=V\d)/i, '')) ? 'entity_id' : 'id';
}

/**
 * The feed itself. `fetchPage` reads one page (the client's GET of the search endpoint with searchCriteria);
 * it is the only thing that talks to Magento.
 */
export function changeFeed<T>(
  path: string,
  options: ChangesOptions,
  fetchPage: (searchCriteria: QueryObject) => Promise<ChangesPage<T>>,
): ChangeFeed<T> {
  const field = options.cursor?.field ?? options.field ?? 'updated_at';
  const idField = options.idField ?? defaultIdField(path);
  const pageSize = options.pageSize ?? MAGENTO_MAX_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RequestRefusedError(`pageSize must be a whole number of at least 1 (Magento's maximum is ${MAGENTO_MAX_PAGE_SIZE} by default), not ${String(pageSize)}.`);
  }
  const since = options.since instanceof Date ? magentoDateTime(options.since) : options.since;
  const state = {
    value: options.cursor ? options.cursor.value : (since ?? null),
    boundary: new Set<number | string>(options.cursor?.ids ?? []),
  };
  const snapshot = (): ChangesCursor => ({ field, value: state.value, ids: [...state.boundary] });

  async function* walk(): AsyncGenerator<T, ChangesCursor, undefined> {
    for (;;) {
      const groups: QueryValue[] = [...(options.filterGroups ?? [])];
      const { value, boundary } = state;
      if (value !== null) {
        groups.push({ filters: [{ field, value, condition_type: 'gteq' }] });
        if (boundary.size > 0 && boundary.size <= MAX_BOUNDARY_IDS) {
          groups.push({ filters: [{ field, value, condition_type: 'gt' }, { field: idField, value: [...boundary].join(','), condition_type: 'nin' }] });
        } else if (boundary.size > 0) {
          const last = [...boundary].reduce((a, b) => (compareIds(a, b) >= 0 ? a : b));
          groups.push({ filters: [{ field, value, condition_type: 'gt' }, { field: idField, value: last, condition_type: 'gt' }] });
        }
      }
      const page = await fetchPage({
        filter_groups: groups,
        sort_orders: [
          { field, direction: 'ASC' },
          { field: idField, direction: 'ASC' },
        ],
        pageSize,
        currentPage: 1,
      });
      const items = page.items ?? [];
      let fresh = 0;
      for (const item of items) {
        const record = item as Record<string, unknown>;
        const v = record[field];
        const id = record[idField] as number | string | undefined;
        if (typeof v !== 'string' || id === undefined) {
          throw new ChangesStalledError(`The items of ${path} have no ${typeof v !== 'string' ? field : idField}: choose another field or idField.`);
        }
        if (state.value !== null && v < state.value) continue; // below the bound: the store ignored a filter
        if (v === state.value && state.boundary.has(id)) continue; // the boundary, already read
        if (v !== state.value) {
          state.value = v;
          state.boundary = new Set();
        }
        state.boundary.add(id);
        fresh++;
        yield item;
      }
      const total = typeof page.total_count === 'number' ? page.total_count : undefined;
      // This page held everything that remains: done. (An empty page is not the end while total_count says more.)
      if (total !== undefined ? items.length >= total : items.length < pageSize) return snapshot();
      if (fresh === 0) {
        throw new ChangesStalledError(
          `The store answered ${path} with no new item although ${total ?? 'more'} remain after ${field} ${state.value}: ` +
            'it may ignore searchCriteria filters or sort orders on this endpoint, so it cannot be read incrementally.',
        );
      }
    }
  }

  const generator = walk();
  Object.defineProperty(generator, 'cursor', { get: snapshot, enumerable: true });
  return generator as ChangeFeed<T>;
}

function compareIds(a: number | string, b: number | string): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b), 'en', { numeric: true });
}
