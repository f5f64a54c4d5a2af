// POST {base}graphql: a small slice of Magento's GraphQL schema, executed by the `graphql` library (v16) the way
// Magento's Controller\GraphQl runs webonyx/graphql-php:
//  - the caller is found like REST's (OAuth header judged by the consumer's verifier; the JSON body is never part of
//    the signature; Bearer only with enable_integration_as_bearer); a bad signature is an error, not a guest;
//  - the `Store` header picks the store view (StoreGraphQl HttpRequestValidator\StoreValidator);
//  - errors raised while executing come back with HTTP 200 as an `errors` array of {message, locations, path,
//    extensions.category}, the data of the failed field null (ExceptionFormatter; graphql-input, ...);
//  - errors raised before execution (the Store validator, the user context's OAuth check) are caught by
//    Controller\GraphQl::dispatch's `catch (\Exception)`: HTTP 500 (HTTP_GRAPH_QL_SCHEMA_ERROR_STATUS) with one error;
//    an exception that is not ClientAware (Magento's OAuth exceptions) reads "Internal server error" in production
//    mode, so a bad signature on GraphQL looks like any internal error.
// Products are public in Magento's GraphQL (guests may read the catalog); `customers` is the mock's own query (Magento
// has none for integrations) and needs the integration's Magento_Customer::customer grant; Magento's `customer`
// needs a customer token, so an integration gets its authorization error.
import type { Context } from 'koa';
import {
  GraphQLError,
  buildSchema,
  graphql as execute,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import type { Catalog, Customer, Product } from './data.js';
import { MagentoException } from './errors.js';
import { incomingRequest } from './http.js';
import { RESOURCES } from './integrations.js';
import { PhpTypeError, type OauthServer } from './oauth.js';
import { bytesToUtf8, phpJsonEncode } from './php.js';
import { authenticate, isAllowed, type Caller } from './rest.js';
import type { StoreSettings } from './settings.js';
import type { MagentoTables } from './tokens.js';

const SDL = /* GraphQL */ `
  type Query {
    products(
      search: String
      filter: ProductAttributeFilterInput
      pageSize: Int = 20
      currentPage: Int = 1
      sort: ProductAttributeSortInput
    ): Products
    customer: Customer
    "Not Magento: customers for an integration granted Magento_Customer::customer."
    customers(filter: CustomerFilterInput, pageSize: Int = 20, currentPage: Int = 1): Customers
    storeConfig: StoreConfig
  }
  input FilterEqualTypeInput {
    eq: String
    in: [String]
  }
  input FilterMatchTypeInput {
    match: String
  }
  input FilterRangeTypeInput {
    from: String
    to: String
  }
  input ProductAttributeFilterInput {
    sku: FilterEqualTypeInput
    name: FilterMatchTypeInput
    price: FilterRangeTypeInput
    category_id: FilterEqualTypeInput
    url_key: FilterEqualTypeInput
  }
  enum SortEnum {
    ASC
    DESC
  }
  input ProductAttributeSortInput {
    name: SortEnum
    price: SortEnum
    relevance: SortEnum
    position: SortEnum
  }
  input CustomerFilterInput {
    email: FilterEqualTypeInput
  }
  type SearchResultPageInfo {
    current_page: Int
    page_size: Int
    total_pages: Int
  }
  type Money {
    value: Float
    currency: CurrencyEnum
  }
  enum CurrencyEnum {
    USD
    EUR
  }
  type ProductPrice {
    regular_price: Money
    final_price: Money
  }
  type PriceRange {
    minimum_price: ProductPrice
    maximum_price: ProductPrice
  }
  enum ProductStockStatus {
    IN_STOCK
    OUT_OF_STOCK
  }
  interface ProductInterface {
    id: Int
    uid: ID!
    sku: String
    name: String
    url_key: String
    type_id: String
    created_at: String
    updated_at: String
    stock_status: ProductStockStatus
    price_range: PriceRange!
  }
  type SimpleProduct implements ProductInterface {
    id: Int
    uid: ID!
    sku: String
    name: String
    url_key: String
    type_id: String
    created_at: String
    updated_at: String
    stock_status: ProductStockStatus
    price_range: PriceRange!
    weight: Float
  }
  type ConfigurableProduct implements ProductInterface {
    id: Int
    uid: ID!
    sku: String
    name: String
    url_key: String
    type_id: String
    created_at: String
    updated_at: String
    stock_status: ProductStockStatus
    price_range: PriceRange!
  }
  type Products {
    items: [ProductInterface]
    page_info: SearchResultPageInfo
    total_count: Int
  }
  type Customer {
    id: Int
    firstname: String
    lastname: String
    email: String
    created_at: String
    updated_at: String
  }
  type Customers {
    items: [Customer]
    page_info: SearchResultPageInfo
    total_count: Int
  }
  type StoreConfig {
    id: Int
    code: String
    store_code: ID
    store_name: String
    locale: String
    base_currency_code: String
    base_url: String
  }
`;

/** Magento's GraphQl exceptions: the category a client reads from extensions. */
class GraphQlException extends Error {
  constructor(
    message: string,
    readonly category: 'graphql-input' | 'graphql-authorization' | 'graphql-authentication' | 'graphql-no-such-entity',
  ) {
    super(message);
  }
}

interface GraphQlContext {
  caller: Caller;
  storeCode: string;
}

interface PageArgs {
  pageSize: number;
  currentPage: number;
}

/** Magento's paging checks (Products\DataProvider / SearchCriteria builder for GraphQL). */
function page<T>(items: T[], { pageSize, currentPage }: PageArgs): { items: T[]; page_info: object; total_count: number } {
  if (currentPage < 1) throw new GraphQlException('currentPage value must be greater than 0.', 'graphql-input');
  if (pageSize < 1) throw new GraphQlException('pageSize value must be greater than 0.', 'graphql-input');
  const totalPages = Math.max(1, Math.ceil(items.length / pageSize));
  if (items.length > 0 && currentPage > totalPages) {
    throw new GraphQlException(
      `currentPage value ${currentPage} specified is greater than the ${totalPages} page(s) available.`,
      'graphql-input',
    );
  }
  return {
    items: items.slice((currentPage - 1) * pageSize, currentPage * pageSize),
    page_info: { current_page: currentPage, page_size: pageSize, total_pages: totalPages },
    total_count: items.length,
  };
}

interface EqualFilter {
  eq?: string | null;
  in?: (string | null)[] | null;
}

const equals = (value: unknown, f: EqualFilter | undefined): boolean => {
  if (!f) return true;
  const v = String(value ?? '').toLowerCase();
  if (f.eq !== undefined && f.eq !== null && v !== f.eq.toLowerCase()) return false;
  if (f.in && !f.in.some((x) => String(x ?? '').toLowerCase() === v)) return false;
  return true;
};

const attribute = (p: Product, code: string): unknown => p.custom_attributes.find((a) => a.attribute_code === code)?.value;

function productView(p: Product, stock: number) {
  const money = { value: p.price, currency: 'USD' };
  const price = { regular_price: money, final_price: money };
  return {
    __typename: p.type_id === 'configurable' ? 'ConfigurableProduct' : 'SimpleProduct',
    id: p.id,
    uid: Buffer.from(String(p.id)).toString('base64'),
    sku: p.sku,
    name: p.name,
    url_key: attribute(p, 'url_key'),
    type_id: p.type_id,
    created_at: p.created_at,
    updated_at: p.updated_at,
    stock_status: stock > 0 ? 'IN_STOCK' : 'OUT_OF_STOCK',
    price_range: { minimum_price: price, maximum_price: price },
    weight: p.weight ?? null,
  };
}

const customerView = (c: Customer) => ({
  id: c.id,
  firstname: c.firstname,
  lastname: c.lastname,
  email: c.email,
  created_at: c.created_at,
  updated_at: c.updated_at,
});

export interface GraphqlOptions {
  oauth: OauthServer;
  tables: MagentoTables;
  catalog: Catalog;
  settings: StoreSettings;
  offloaderHeader: string;
  checkSignatures: () => boolean;
  storeConfig?: (storeCode: string) => Record<string, unknown>;
  onError?: (e: unknown) => void;
}

function rootValue(o: GraphqlOptions) {
  return {
    products(args: PageArgs & { search?: string | null; filter?: Record<string, unknown> | null; sort?: Record<string, string> | null }) {
      const filter = args.filter ?? undefined;
      if ((args.search === undefined || args.search === null) && !filter) {
        throw new GraphQlException("'search' or 'filter' input argument is required.", 'graphql-input');
      }
      const search = args.search?.toLowerCase();
      let found = o.catalog.products.filter((p) => p.status === 1 && p.visibility !== 1);
      if (search) found = found.filter((p) => p.name.toLowerCase().includes(search) || p.sku.toLowerCase().includes(search));
      if (filter) {
        const f = filter as {
          sku?: EqualFilter;
          url_key?: EqualFilter;
          category_id?: EqualFilter;
          name?: { match?: string | null };
          price?: { from?: string | null; to?: string | null };
        };
        found = found.filter(
          (p) =>
            equals(p.sku, f.sku) &&
            equals(attribute(p, 'url_key'), f.url_key) &&
            (!f.category_id || p.extension_attributes.category_links.some((l) => equals(l.category_id, f.category_id))) &&
            (!f.name?.match || p.name.toLowerCase().includes(f.name.match.toLowerCase())) &&
            (!f.price?.from || p.price >= Number(f.price.from)) &&
            (!f.price?.to || p.price <= Number(f.price.to)),
        );
      }
      const sort = args.sort ?? {};
      const [field, direction] = Object.entries(sort)[0] ?? [];
      if (field === 'name' || field === 'price') {
        const sign = direction === 'DESC' ? -1 : 1;
        found = [...found].sort((a, b) => (a[field] < b[field] ? -sign : a[field] > b[field] ? sign : a.id - b.id));
      }
      const result = page(found, args);
      return { ...result, items: result.items.map((p) => productView(p, o.catalog.stock.get(p.id) ?? 100)) };
    },
    customer() {
      // CustomerGraphQl: only a customer token has a current customer.
      throw new GraphQlException("The current customer isn't authorized.", 'graphql-authorization');
    },
    customers(args: PageArgs & { filter?: { email?: EqualFilter } | null }, context: GraphQlContext) {
      if (!isAllowed(context.caller.resources, [RESOURCES.customers])) {
        throw new GraphQlException(
          `The consumer isn't authorized to access ${RESOURCES.customers}.`,
          'graphql-authorization',
        );
      }
      const found = o.catalog.customers.filter((c) => equals(c.email, args.filter?.email ?? undefined));
      const result = page(found, args);
      return { ...result, items: result.items.map(customerView) };
    },
    storeConfig(_args: unknown, context: GraphQlContext) {
      const view = o.settings.storeViews.find((v) => v.code === context.storeCode);
      return {
        id: view?.id ?? 1,
        code: context.storeCode,
        store_code: context.storeCode,
        store_name: view?.name ?? 'Default Store View',
        locale: context.storeCode === 'fr' ? 'fr_FR' : 'en_US',
        base_currency_code: 'USD',
        ...(o.storeConfig?.(context.storeCode) ?? {}),
      };
    },
  };
}

/** ExceptionFormatter: message, locations, path, extensions.category; internal errors masked. */
function formatError(e: GraphQLError, onError?: (e: unknown) => void): GraphQLFormattedError {
  const original = e.originalError;
  const base = e.toJSON();
  if (!original) return { ...base, extensions: { category: 'graphql', ...(base.extensions ?? {}) } };
  if (original instanceof GraphQlException) return { ...base, extensions: { category: original.category } };
  // Not ClientAware (webonyx FormattedError, production mode): masked.
  if (!(original instanceof MagentoException)) onError?.(original);
  return { message: 'Internal server error', ...(base.locations ? { locations: base.locations } : {}), ...(base.path ? { path: base.path } : {}) };
}

/** Controller\GraphQl's catch: one formatted error; ClientAware ones keep message and category. */
const preExecutionError = (message: string, category?: string) => ({
  errors: [{ message, ...(category ? { extensions: { category } } : {}) }],
});

export function graphqlEndpoint(o: GraphqlOptions) {
  const schema: GraphQLSchema = buildSchema(SDL);
  const resolvers = rootValue(o);

  return async function graphql(ctx: Context): Promise<void> {
    const req = await incomingRequest(ctx, o.offloaderHeader);
    ctx.type = 'application/json';
    ctx.status = 200;
    const reply = (body: unknown): void => {
      ctx.body = phpJsonEncode(body);
    };

    // HttpRequestProcessor validators: the Store header first.
    const storeHeader = ctx.get('Store');
    const storeCode = storeHeader || 'default';
    if (storeHeader && !o.settings.storeViews.some((v) => v.code === storeHeader)) {
      ctx.status = 500;
      return reply(preExecutionError('Requested store is not found', 'graphql-input'));
    }

    let caller: Caller = { resources: 'all', integrationId: null };
    if (o.checkSignatures()) {
      try {
        caller = authenticate({ oauth: o.oauth, tables: o.tables, settings: o.settings }, req);
      } catch (e) {
        // Magento\Framework\Oauth\Exception is not ClientAware: masked like any internal failure.
        if (!(e instanceof MagentoException) && !(e instanceof PhpTypeError)) o.onError?.(e);
        ctx.status = 500;
        return reply(preExecutionError('Internal server error'));
      }
    }

    let query: unknown;
    let variables: unknown;
    let operationName: unknown;
    if (req.method === 'GET') {
      const url = new URL(req.requestUri, 'http://x');
      query = url.searchParams.get('query');
      variables = url.searchParams.get('variables') ? safeJson(url.searchParams.get('variables')!) : undefined;
      operationName = url.searchParams.get('operationName') ?? undefined;
    } else if (req.method === 'POST') {
      const body = safeJson(bytesToUtf8(req.body));
      if (!body || typeof body !== 'object') {
        ctx.status = 500;
        return reply(preExecutionError('Unable to unserialize value.'));
      }
      ({ query, variables, operationName } = body as Record<string, unknown>);
    } else {
      ctx.status = 405;
      return reply(preExecutionError('Request method is not supported.', 'graphql-input'));
    }
    if (typeof query !== 'string' || !query.trim()) {
      ctx.status = 500;
      return reply(preExecutionError('Syntax Error: Unexpected <EOF>', 'graphql'));
    }

    const result = await execute({
      schema,
      source: query,
      rootValue: resolvers,
      contextValue: { caller, storeCode } satisfies GraphQlContext,
      variableValues: variables && typeof variables === 'object' ? (variables as Record<string, unknown>) : undefined,
      operationName: typeof operationName === 'string' ? operationName : undefined,
    });
    const body: Record<string, unknown> = {};
    if (result.errors?.length) body.errors = result.errors.map((e) => formatError(e, o.onError));
    if (result.data !== undefined) body.data = result.data;
    reply(body);
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
