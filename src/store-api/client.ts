// The TypeScript client for services in the same process: Magento's REST API for one of the account's stores,
// without OAuth. Errors are typed (src/store-api/errors.ts); Magento's messages come with their placeholders filled.
//
//   const store = connector.forStore(storeId);
//   const product = await store.get<Product>('V1/products/24-MB01');
//   for await (const order of store.paginate<Order>('V1/orders', { filter_groups: [...] })) { ... }
import type { QueryInput, QueryObject, QueryValue } from '../protocol/query.js';
import type { RestResponse } from '../protocol/rest-client.js';
import { bulkAccepted, bulkSummary, type BulkAccepted, type BulkSummary } from './bulk.js';
import { changeFeed, type ChangeFeed, type ChangesOptions } from './changes.js';
import { MagentoApiError, PageSizeTooLargeError, readMagentoError } from './errors.js';
import type { StoreGateway } from './gateway.js';
import { checkStoreCode, decodeGraphql, graphqlCall } from './graphql.js';

export interface CallOptions {
  /** Store view code put before the path (`default/V1/...`); Magento uses `default` when there is none. */
  storeCode?: string;
  signal?: AbortSignal;
}

export interface SearchResult<T> {
  items: T[];
  total_count: number;
  search_criteria?: unknown;
}

export class ConnectorClient {
  constructor(
    private readonly gateway: StoreGateway,
    private readonly accountId: string,
  ) {}

  /**
   * One of the account's stores. `storeCode` scopes every call to a store view: REST paths become
   * `/rest/<code>/V1/...` (`all` for global saves) and GraphQL sends it as the `Store` header.
   */
  forStore(storeId: string, options: StoreClientOptions = {}): StoreClient {
    if (options.storeCode !== undefined) checkStoreCode(options.storeCode);
    return new StoreClient(this.gateway, this.accountId, storeId, options.storeCode);
  }
}

export interface StoreClientOptions {
  /** The store view for every call (a call's own `storeCode` wins). */
  storeCode?: string;
}

export interface GraphqlOptions {
  storeCode?: string;
  operationName?: string;
  signal?: AbortSignal;
}

export class StoreClient {
  constructor(
    private readonly gateway: StoreGateway,
    private readonly accountId: string,
    readonly storeId: string,
    /** The store view every call is scoped to, unless a call gives its own. */
    readonly storeCode?: string,
  ) {}

  get<T = unknown>(path: string, query?: QueryInput, options?: CallOptions): Promise<T> {
    return this.call<T>('GET', path, query, undefined, options);
  }
  post<T = unknown>(path: string, body: unknown, options?: CallOptions): Promise<T> {
    return this.call<T>('POST', path, undefined, body, options);
  }
  put<T = unknown>(path: string, body: unknown, options?: CallOptions): Promise<T> {
    return this.call<T>('PUT', path, undefined, body, options);
  }
  delete<T = unknown>(path: string, options?: CallOptions): Promise<T> {
    return this.call<T>('DELETE', path, undefined, undefined, options);
  }

  /**
   * Walks a search endpoint page by page (`searchCriteria[currentPage]` from 1) until `total_count` items have
   * been seen or a page comes back empty.
   */
  async *paginate<T = unknown>(
    path: string,
    searchCriteria: QueryObject = {},
    options: CallOptions & { pageSize?: number } = {},
  ): AsyncGenerator<T, void, undefined> {
    const pageSize = options.pageSize ?? 100;
    let seen = 0;
    for (let page = 1; ; page++) {
      const criteria: Record<string, QueryValue> = { ...searchCriteria, pageSize, currentPage: page };
      const result = await this.searchPage<T>(path, criteria, options, pageSize);
      const items = result.items ?? [];
      for (const item of items) yield item;
      seen += items.length;
      // Magento answers a page past the end with the last page again, so total_count (or a short page when an
      // endpoint has no total_count) is what ends the walk.
      const total = typeof result.total_count === 'number' ? result.total_count : undefined;
      if (items.length === 0 || (total !== undefined ? seen >= total : items.length < pageSize)) return;
    }
  }

  // ---- issue 15: GraphQL, async and bulk, incremental reads ----------------------------------------------------

  /**
   * A GraphQL query or mutation against `{store_base_url}graphql`, signed like REST, in the store view of
   * `storeCode` (Magento's `Store` header). Returns `data`; MagentoGraphQLError when Magento answers with `errors`.
   */
  async graphql<T = unknown>(query: string, variables?: Record<string, unknown>, options: GraphqlOptions = {}): Promise<T> {
    const body = JSON.stringify({ query, ...(variables ? { variables } : {}), ...(options.operationName ? { operationName: options.operationName } : {}) });
    const response = await this.gateway.send(
      this.accountId,
      this.storeId,
      graphqlCall({ body, storeCode: options.storeCode ?? this.storeCode, signal: options.signal }),
    );
    return decodeGraphql<T>(response);
  }

  /**
   * Schedules one operation per item through Magento's bulk API (`/rest/async/bulk/V1/...`, 202): e.g.
   * `bulk('PUT', 'V1/products/bySku', [{ sku, product: {...} }, ...])`. Path variables are `by<Name>` fields.
   */
  async bulk(method: 'POST' | 'PUT' | 'DELETE', path: string, items: unknown[], options: CallOptions = {}): Promise<BulkAccepted> {
    return bulkAccepted(await this.call<unknown>(method, asyncPath(path, true), undefined, items, options));
  }

  /** One asynchronous operation (`/rest/async/V1/...`, 202): its bulk UUID and request item. */
  async async(method: 'POST' | 'PUT' | 'DELETE', path: string, body: unknown, options: CallOptions = {}): Promise<BulkAccepted> {
    return bulkAccepted(await this.call<unknown>(method, asyncPath(path, false), undefined, body, options));
  }

  /** `GET /V1/bulk/:uuid/detailed-status` as counts per status and the operations. */
  async bulkStatus(bulkUuid: string, options: CallOptions = {}): Promise<BulkSummary> {
    return bulkSummary(await this.get<unknown>(`V1/bulk/${encodeURIComponent(bulkUuid)}/detailed-status`, undefined, options));
  }

  /**
   * Every entity of a search endpoint changed at or after `since` (everything without it), ordered by `field`
   * (updated_at) then id, no gap and no duplicate at page boundaries even while entities change. Iterate it with
   * `for await`; `feed.cursor` (also the generator's return value) is where to resume from next time.
   */
  changes<T = unknown>(path: string, options: ChangesOptions = {}): ChangeFeed<T> {
    const { storeCode, signal } = options;
    const pageSize = options.pageSize;
    return changeFeed<T>(path, options, (searchCriteria) =>
      this.searchPage<T>(path, searchCriteria, { storeCode, signal }, pageSize ?? Number(searchCriteria.pageSize)),
    );
  }

  /** One page of a search endpoint; the store's "page size too big" answer as PageSizeTooLargeError. */
  private async searchPage<T>(path: string, searchCriteria: QueryObject, options: CallOptions, pageSize: number): Promise<SearchResult<T>> {
    try {
      return await this.get<SearchResult<T>>(path, { searchCriteria }, options);
    } catch (err) {
      if (err instanceof MagentoApiError && err.status === 400 && /^Maximum SearchCriteria pageSize is/.test(err.magentoMessage)) {
        const max = Number((err.parameters as { max?: unknown } | null)?.max);
        throw new PageSizeTooLargeError(pageSize, Number.isFinite(max) ? max : null);
      }
      throw err;
    }
  }

  private async call<T>(method: string, path: string, query: QueryInput | undefined, body: unknown, options: CallOptions = {}): Promise<T> {
    const clean = path.replace(/^\/+/, '');
    const storeCode = options.storeCode ?? this.storeCode;
    const response = await this.gateway.send(this.accountId, this.storeId, {
      method,
      path: storeCode ? `${checkStoreCode(storeCode)}/${clean}` : clean,
      query,
      body: body === undefined ? undefined : JSON.stringify(body),
      contentType: body === undefined ? undefined : 'application/json',
      signal: options.signal,
    });
    return decode<T>(response);
  }
}

/** `V1/products` -> `async/V1/products` or `async/bulk/V1/products`; a path already under async/ is kept. */
function asyncPath(path: string, bulk: boolean): string {
  const clean = path.replace(/^\/+/, '');
  if (/^async\//.test(clean)) return clean;
  return `${bulk ? 'async/bulk' : 'async'}/${clean}`;
}

function decode<T>(response: RestResponse): T {
  const type = response.headers['content-type'];
  const contentType = Array.isArray(type) ? type[0] : type;
  if (response.status >= 400) {
    const error = readMagentoError(response.body, contentType);
    throw new MagentoApiError(
      response.status,
      error?.message ?? `HTTP ${response.status}`,
      error?.parameters ?? null,
      error ?? response.body.toString('utf8').slice(0, 2000),
    );
  }
  if (response.body.length === 0) return undefined as T;
  const text = response.body.toString('utf8');
  return (contentType?.includes('json') ? JSON.parse(text) : text) as T;
}
