// The TypeScript client for services in the same process: Magento's REST API for one of the account's stores,
// without OAuth. Errors are typed (src/store-api/errors.ts); Magento's messages come with their placeholders filled.
//
//   const store = connector.forStore(storeId);
//   const product = await store.get<Product>('V1/products/24-MB01');
//   for await (const order of store.paginate<Order>('V1/orders', { filter_groups: [...] })) { ... }
import type { QueryInput, QueryObject, QueryValue } from '../protocol/query.js';
import type { RestResponse } from '../protocol/rest-client.js';
import { MagentoApiError, readMagentoError } from './errors.js';
import type { StoreGateway } from './gateway.js';

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

  forStore(storeId: string): StoreClient {
    return new StoreClient(this.gateway, this.accountId, storeId);
  }
}

export class StoreClient {
  constructor(
    private readonly gateway: StoreGateway,
    private readonly accountId: string,
    readonly storeId: string,
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
      const result = await this.get<SearchResult<T>>(path, { searchCriteria: criteria }, options);
      const items = result.items ?? [];
      for (const item of items) yield item;
      seen += items.length;
      // Magento answers a page past the end with the last page again, so total_count (or a short page when an
      // endpoint has no total_count) is what ends the walk.
      const total = typeof result.total_count === 'number' ? result.total_count : undefined;
      if (items.length === 0 || (total !== undefined ? seen >= total : items.length < pageSize)) return;
    }
  }

  private async call<T>(method: string, path: string, query: QueryInput | undefined, body: unknown, options: CallOptions = {}): Promise<T> {
    const clean = path.replace(/^\/+/, '');
    const response = await this.gateway.send(this.accountId, this.storeId, {
      method,
      path: options.storeCode ? `${encodeURIComponent(options.storeCode)}/${clean}` : clean,
      query,
      body: body === undefined ? undefined : JSON.stringify(body),
      contentType: body === undefined ? undefined : 'application/json',
      signal: options.signal,
    });
    return decode<T>(response);
  }
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
