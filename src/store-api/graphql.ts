// GraphQL calls ({store_base_url}graphql) for the proxy and the TypeScript client: OAuth-signed like REST (the JSON
// body is never part of the signature), Magento's `Store` header selecting the store view.
import type { RestCall, RestResponse } from '../protocol/rest-client.js';
import type { CallSignal } from '../protocol/transport.js';
import { MagentoApiError, MagentoGraphQLError, RequestRefusedError, type GraphQLErrorEntry } from './errors.js';

// Magento's rule for a store code (Store\Model\ResourceModel\Store::_checkCode): a letter, then letters, digits, `_`.
const STORE_CODE = /^[a-z][a-z0-9_]*$/i;

/** A store code checked before it goes into a REST path or a header. `all` is REST's global scope. */
export function checkStoreCode(code: string): string {
  if (typeof code !== 'string' || !STORE_CODE.test(code) || code.length > 64) {
    throw new RequestRefusedError(
      `${JSON.stringify(String(code).slice(0, 80))} is not a Magento store code: a letter, then letters, digits or "_" (e.g. default, fr, all).`,
    );
  }
  return code;
}

export interface GraphqlCallInput {
  /** The JSON body as sent: `{"query", "variables"?, "operationName"?}`. */
  body: Buffer | string;
  /** The store view (Magento's `Store` header); `all` and undefined send none (the default store view). */
  storeCode?: string | undefined;
  signal?: CallSignal | undefined;
}

export function graphqlCall({ body, storeCode, signal }: GraphqlCallInput): RestCall {
  const headers: Record<string, string> = {};
  if (storeCode !== undefined && storeCode !== 'all') headers.Store = checkStoreCode(storeCode);
  return { method: 'POST', path: 'graphql', endpoint: 'graphql', body, contentType: 'application/json', headers, signal };
}

interface GraphQLAnswer {
  data?: unknown;
  errors?: Array<{ message?: unknown; path?: unknown; locations?: unknown; extensions?: { category?: unknown } }>;
}

/** Magento's GraphQL answer: `data`, or MagentoGraphQLError when it carries `errors` (HTTP 200 or 500). */
export function decodeGraphql<T>(response: RestResponse): T {
  const text = response.body.toString('utf8');
  let parsed: GraphQLAnswer | undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as GraphQLAnswer;
  } catch {
    parsed = undefined;
  }
  if (!parsed) {
    throw new MagentoApiError(response.status, `not a GraphQL answer (HTTP ${response.status})`, null, text.slice(0, 2000));
  }
  if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
    const errors: GraphQLErrorEntry[] = parsed.errors.map((e) => {
      const entry: GraphQLErrorEntry = { message: typeof e.message === 'string' ? e.message : 'unknown error' };
      if (Array.isArray(e.path)) entry.path = e.path as Array<string | number>;
      if (Array.isArray(e.locations)) entry.locations = e.locations as Array<{ line: number; column: number }>;
      if (typeof e.extensions?.category === 'string') entry.category = e.extensions.category;
      return entry;
    });
    throw new MagentoGraphQLError(response.status, errors, parsed.data ?? null);
  }
  if (response.status >= 400) {
    throw new MagentoApiError(response.status, `HTTP ${response.status}`, null, text.slice(0, 2000));
  }
  return (parsed.data ?? null) as T;
}
