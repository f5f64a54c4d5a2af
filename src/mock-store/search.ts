// searchCriteria the way Magento's REST layer reads it and its collections apply it:
//  - the query's `searchCriteria[...]` array, snake_case or camelCase keys (ServiceInputProcessor);
//  - filters within a group OR'd, groups AND'd (CollectionProcessor\FilterProcessor); condition_type defaults to
//    eq; `in`/`nin` take a comma list; `like` uses % and _ wildcards;
//  - comparisons as MySQL makes them: numeric columns as numbers, text case-insensitively (utf8_general_ci),
//    dates as their 'Y-m-d H:i:s' strings;
//  - paging: a current page past the last one returns the LAST page (Data\Collection::getCurPage clamps), so a
//    client must stop by total_count, not by an empty page.
import { MagentoException, aggregateInputErrors, invalidType, requiredField } from './errors.js';
import type { PhpArray, PhpValue } from './php.js';

export interface Filter {
  field: string;
  value: string;
  condition_type: string;
}

export interface SearchCriteria {
  filter_groups: { filters: Filter[] }[];
  sort_orders?: { field: string; direction: string }[];
  page_size?: number;
  current_page?: number;
}

export interface SearchResult<T> {
  items: T[];
  search_criteria: SearchCriteria;
  total_count: number;
}

const pick = (arr: PhpArray, snake: string): PhpValue | undefined => {
  const camel = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return arr.get(snake) ?? arr.get(camel);
};

const asList = (v: PhpValue | undefined): PhpArray[] => {
  if (v === undefined || v === '') return [];
  if (typeof v === 'string') throw invalidType(v, 'array');
  return [...v.values()].map((x) => {
    if (typeof x === 'string') throw invalidType(x, 'array');
    return x;
  });
};

const scalar = (v: PhpValue | undefined): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidType('Array', 'string');
  return v;
};

function intParam(v: PhpValue | undefined): number | undefined {
  const s = scalar(v);
  if (s === undefined) return undefined;
  if (!/^\s*[+-]?\d+(\.\d+)?\s*$/.test(s)) throw invalidType(s, 'int');
  return Math.trunc(Number(s));
}

export interface SearchLimits {
  /** webapi/validation/maximum_page_size; null = none. */
  maxPageSize?: number | null;
}

/**
 * ServiceInputProcessor for a `SearchCriteriaInterface $searchCriteria` argument from the query, with 2.4.7's
 * Framework\Webapi\Validator\SearchCriteriaValidator (a LocalizedException: 400).
 */
export function readSearchCriteria(query: PhpArray, limits: SearchLimits = {}): SearchCriteria {
  const raw = query.get('searchCriteria');
  if (raw === undefined) throw aggregateInputErrors([requiredField('searchCriteria')])!;
  const sc: PhpArray = typeof raw === 'string' ? new Map() : raw;
  const filter_groups = asList(pick(sc, 'filter_groups')).map((g) => ({
    filters: asList(pick(g, 'filters')).map((f) => ({
      field: scalar(pick(f, 'field')) ?? '',
      value: scalar(pick(f, 'value')) ?? '',
      condition_type: scalar(pick(f, 'condition_type')) || 'eq',
    })),
  }));
  const criteria: SearchCriteria = { filter_groups };
  const sortOrders = asList(pick(sc, 'sort_orders')).map((s) => ({
    field: scalar(pick(s, 'field')) ?? '',
    direction: (scalar(pick(s, 'direction')) ?? 'ASC').toUpperCase() === 'DESC' ? 'DESC' : 'ASC',
  }));
  if (sortOrders.length) criteria.sort_orders = sortOrders;
  const pageSize = intParam(pick(sc, 'page_size'));
  if (pageSize !== undefined) {
    const max = limits.maxPageSize;
    if (max !== undefined && max !== null && pageSize > max) {
      throw new MagentoException('localized', 'Maximum SearchCriteria pageSize is %max', { max });
    }
    criteria.page_size = pageSize;
  }
  const currentPage = intParam(pick(sc, 'current_page'));
  if (currentPage !== undefined) criteria.current_page = currentPage;
  return criteria;
}

export type FieldKind = 'number' | 'text' | 'date';

/** How an entity exposes its searchable columns. `undefined` from `get` means "no such column". */
export interface Searchable<T> {
  kind(field: string): FieldKind | undefined;
  get(item: T, field: string): unknown;
  /** The error Magento raises for an unknown filter field. */
  unknownField(field: string): MagentoException;
}

const norm = (v: unknown): string => String(v).toLowerCase().replace(/ +$/, '');

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  const m = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(String(v));
  return m ? Number(m[0]) : 0;
}

function compare(kind: FieldKind, a: unknown, b: unknown): number {
  if (kind === 'number') return toNumber(a) - toNumber(b);
  const x = kind === 'text' ? norm(a) : String(a);
  const y = kind === 'text' ? norm(b) : String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function likeToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

function matches(kind: FieldKind, actual: unknown, f: Filter): boolean {
  const isNull = actual === null || actual === undefined;
  const list = (): string[] => f.value.split(',');
  switch (f.condition_type) {
    case 'null':
      return isNull;
    case 'notnull':
      return !isNull;
  }
  if (isNull) return false; // SQL: NULL compares to nothing
  switch (f.condition_type) {
    case 'eq':
      return compare(kind, actual, f.value) === 0;
    case 'neq':
      return compare(kind, actual, f.value) !== 0;
    case 'gt':
      return compare(kind, actual, f.value) > 0;
    case 'gteq':
    case 'moreq':
    case 'from':
      return compare(kind, actual, f.value) >= 0;
    case 'lt':
      return compare(kind, actual, f.value) < 0;
    case 'lteq':
    case 'to':
      return compare(kind, actual, f.value) <= 0;
    case 'like':
      return likeToRegExp(f.value).test(String(actual));
    case 'nlike':
      return !likeToRegExp(f.value).test(String(actual));
    case 'in':
      return list().some((v) => compare(kind, actual, v) === 0);
    case 'nin':
      return !list().some((v) => compare(kind, actual, v) === 0);
    case 'finset':
      return String(actual)
        .split(',')
        .some((v) => compare(kind, v, f.value) === 0);
    default:
      // Mysql::prepareSqlCondition: an unknown key falls through to the plain `field = value` condition.
      return compare(kind, actual, f.value) === 0;
  }
}

export function search<T>(
  items: T[],
  criteria: SearchCriteria,
  s: Searchable<T>,
  idOf: (item: T) => number,
  pastLastPage: 'last' | 'empty' = 'last',
): SearchResult<T> {
  for (const g of criteria.filter_groups) for (const f of g.filters) if (!s.kind(f.field)) throw s.unknownField(f.field);
  for (const o of criteria.sort_orders ?? []) if (!s.kind(o.field)) throw s.unknownField(o.field);

  let found = items.filter((item) =>
    criteria.filter_groups.every(
      (g) => g.filters.length === 0 || g.filters.some((f) => matches(s.kind(f.field)!, s.get(item, f.field), f)),
    ),
  );
  const order = (a: T, b: T): number => {
    for (const o of criteria.sort_orders ?? []) {
      const c = compare(s.kind(o.field)!, s.get(a, o.field) ?? '', s.get(b, o.field) ?? '');
      if (c !== 0) return o.direction === 'DESC' ? -c : c;
    }
    return idOf(a) - idOf(b);
  };
  // Often already in that order (id order; seeded orders by updated_at): one pass instead of a sort of 100,000.
  if (!found.every((x, i) => i === 0 || order(found[i - 1]!, x) <= 0)) found = [...found].sort(order);

  const total = found.length;
  const size = criteria.page_size ?? 0;
  let page = found;
  if (size > 0) {
    const lastPage = Math.max(1, Math.ceil(total / size));
    const requested = Math.max(criteria.current_page ?? 1, 1);
    const current = pastLastPage === 'last' ? Math.min(requested, lastPage) : requested;
    page = found.slice((current - 1) * size, current * size);
  }
  return { items: page, search_criteria: criteria, total_count: total };
}
