// The REST routes the mock serves (Magento's webapi.xml entries for them): the route table with each route's ACL
// resources, the searchable columns of products, customers and orders, and the services behind them.
import { randomBytes } from 'node:crypto';
import { MagentoException, aggregateInputErrors, invalidType, requiredField } from './errors.js';
import type { Catalog, Customer, Order, Product } from './data.js';
import { RESOURCES } from './integrations.js';
import type { PhpArray } from './php.js';
import type { RestOptions } from './rest.js';
import { readSearchCriteria, search, type FieldKind, type Searchable } from './search.js';
import { ADMIN_STORE_VIEW } from './settings.js';

export interface Call {
  params: Record<string, string>;
  query: PhpArray;
  body: Record<string, unknown>;
}

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** ACL ids; `anonymous` alone: anyone, the caller is never authenticated (Webapi GuestAuthorization). */
  resources: string[];
  /** Listed in Magento_WebapiSecurity's di.xml: anonymous while webapi/webapisecurity/allow_insecure is on. */
  anonymousWhenInsecure?: boolean;
  handle: (call: Call) => unknown;
  /** The service method, for async topic names (`async.<service>.<http method>`). */
  service?: string;
}

const reportId = (): string => `webapi-${randomBytes(6).toString('hex')}`;
export const internalError = (): MagentoException =>
  new MagentoException('internal', `Internal Error. Details are available in Magento log file. Report ID: ${reportId()}`);

export const mysqlDate = (d: Date): string => d.toISOString().slice(0, 19).replace('T', ' ');

// ---- searchable columns ---------------------------------------------------------------------------------------

const PRODUCT_COLUMNS: Record<string, FieldKind> = {
  entity_id: 'number',
  id: 'number',
  sku: 'text',
  name: 'text',
  price: 'number',
  status: 'number',
  visibility: 'number',
  type_id: 'text',
  attribute_set_id: 'number',
  weight: 'number',
  created_at: 'date',
  updated_at: 'date',
  category_id: 'number',
  url_key: 'text',
  description: 'text',
  tax_class_id: 'number',
};

const invalidAttribute = (field: string): MagentoException => new MagentoException('localized', 'Invalid attribute name: %1', [field]);

const productSearch: Searchable<Product> = {
  kind: (f) => PRODUCT_COLUMNS[f],
  get: (p, f) => {
    if (f === 'entity_id') return p.id;
    if (f === 'category_id') return p.extension_attributes.category_links[0]?.category_id;
    if (f in p) return (p as unknown as Record<string, unknown>)[f];
    return p.custom_attributes.find((a) => a.attribute_code === f)?.value;
  },
  unknownField: invalidAttribute,
};

const CUSTOMER_COLUMNS: Record<string, FieldKind> = {
  entity_id: 'number',
  id: 'number',
  email: 'text',
  firstname: 'text',
  lastname: 'text',
  group_id: 'number',
  store_id: 'number',
  website_id: 'number',
  gender: 'number',
  created_at: 'date',
  updated_at: 'date',
};

const customerSearch: Searchable<Customer> = {
  kind: (f) => CUSTOMER_COLUMNS[f],
  get: (c, f) => (f === 'entity_id' ? c.id : (c as unknown as Record<string, unknown>)[f]),
  unknownField: invalidAttribute,
};

const ORDER_COLUMNS: Record<string, FieldKind> = {
  entity_id: 'number',
  increment_id: 'text',
  created_at: 'date',
  updated_at: 'date',
  state: 'text',
  status: 'text',
  customer_id: 'number',
  customer_is_guest: 'number',
  customer_email: 'text',
  customer_firstname: 'text',
  customer_lastname: 'text',
  base_currency_code: 'text',
  order_currency_code: 'text',
  store_id: 'number',
  subtotal: 'number',
  grand_total: 'number',
  total_qty_ordered: 'number',
};

const orderSearch: Searchable<Order> = {
  kind: (f) => ORDER_COLUMNS[f],
  get: (o, f) => (o as unknown as Record<string, unknown>)[f],
  // A flat table: an unknown column is an SQL error, which Magento masks as an internal error.
  unknownField: () => internalError(),
};

// ---- services -----------------------------------------------------------------------------------------------

const PRODUCT_NOT_FOUND = "The product that was requested doesn't exist. Verify the product and try again.";

function productInput(body: Record<string, unknown>): Record<string, unknown> {
  const product = body.product;
  if (product === undefined || product === null) throw aggregateInputErrors([requiredField('product')])!;
  if (typeof product !== 'object' || Array.isArray(product)) throw invalidType(String(product), 'ProductInterface');
  return product as Record<string, unknown>;
}

function numberField(input: Record<string, unknown>, key: string): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw invalidType(String(v), 'float');
  return n;
}

/** ProductRepository::save, as far as the mock's fields go: update by SKU, or create. */
function saveProduct(catalog: Catalog, input: Record<string, unknown>, now: string): Product {
  const sku = typeof input.sku === 'string' ? input.sku : undefined;
  const existing = sku ? catalog.productBySku(sku) : undefined;
  const emptyAttribute = (code: string): MagentoException =>
    new MagentoException('localized', 'The "%1" attribute value is empty. Set the attribute and try again.', [code]);
  if (!sku) throw emptyAttribute('sku');
  const price = numberField(input, 'price');
  const base: Product = existing ?? {
    id: catalog.allocateProductId(),
    sku,
    name: '',
    attribute_set_id: 4,
    price: 0,
    status: 1,
    visibility: 4,
    type_id: 'simple',
    created_at: now,
    updated_at: now,
    extension_attributes: { website_ids: [1], category_links: [] },
    product_links: [],
    options: [],
    media_gallery_entries: [],
    tier_prices: [],
    custom_attributes: [],
  };
  if (!existing) {
    if (typeof input.name !== 'string' || input.name === '') throw emptyAttribute('name');
    if (price === undefined) throw emptyAttribute('price');
  }
  const next: Product = { ...base, updated_at: now };
  if (typeof input.name === 'string') next.name = input.name;
  if (price !== undefined) next.price = price;
  for (const key of ['status', 'visibility', 'attribute_set_id', 'weight'] as const) {
    const n = numberField(input, key);
    if (n !== undefined) next[key] = n;
  }
  if (typeof input.type_id === 'string') next.type_id = input.type_id;
  if (Array.isArray(input.custom_attributes)) {
    const merged = new Map(next.custom_attributes.map((a) => [a.attribute_code, a.value]));
    for (const a of input.custom_attributes as { attribute_code?: unknown; value?: unknown }[]) {
      if (a && typeof a.attribute_code === 'string') merged.set(a.attribute_code, a.value);
    }
    next.custom_attributes = [...merged].map(([attribute_code, value]) => ({ attribute_code, value }));
  }
  if (input.extension_attributes && typeof input.extension_attributes === 'object') {
    next.extension_attributes = { ...next.extension_attributes, ...(input.extension_attributes as object) };
  }
  if (existing) catalog.products = catalog.products.map((p) => (p === existing ? next : p));
  else catalog.products.push(next);
  return next;
}

export function routes(o: RestOptions): RouteDef[] {
  const { catalog } = o;
  const products = [RESOURCES.products];
  const customers = [RESOURCES.customers];
  const orders = [RESOURCES.orders];
  const criteria = (query: PhpArray) => readSearchCriteria(query, { maxPageSize: o.settings?.maxPageSize ?? null });
  const pastLastPage = (): 'last' | 'empty' => o.settings?.pastLastPage ?? 'last';
  /** A list read; the touch knob's changes due after it apply once it is answered. */
  const listRead = <T>(entity: 'products' | 'customers' | 'orders', result: T): T => {
    catalog.afterListRead(entity, mysqlDate(o.now()));
    return result;
  };
  const requireProduct = (sku: string): Product => {
    const p = catalog.productBySku(sku);
    if (!p) throw new MagentoException('noSuchEntity', PRODUCT_NOT_FOUND);
    return p;
  };
  const intParam = (v: string): number => {
    if (!/^\d+$/.test(v)) throw invalidType(v, 'int');
    return Number(v);
  };
  return [
    {
      method: 'GET',
      path: '/V1/products',
      resources: products,
      anonymousWhenInsecure: true,
      handle: ({ query }) =>
        listRead('products', search(catalog.products, criteria(query), productSearch, (p) => p.id, pastLastPage())),
    },
    { method: 'GET', path: '/V1/products/:sku', resources: products, anonymousWhenInsecure: true, handle: ({ params }) => requireProduct(params.sku!) },
    {
      method: 'POST',
      path: '/V1/products',
      resources: products,
      service: 'magento.catalog.api.productrepositoryinterface.save',
      handle: ({ body }) => saveProduct(catalog, productInput(body), mysqlDate(o.now())),
    },
    {
      method: 'PUT',
      path: '/V1/products/:sku',
      resources: products,
      service: 'magento.catalog.api.productrepositoryinterface.save',
      // Rest\Request::overrideRequestBodyIdWithPathParam: the SKU in the path wins over the body's.
      handle: ({ params, body }) => saveProduct(catalog, { ...productInput(body), sku: params.sku }, mysqlDate(o.now())),
    },
    {
      method: 'DELETE',
      path: '/V1/products/:sku',
      resources: products,
      service: 'magento.catalog.api.productrepositoryinterface.deletebyid',
      handle: ({ params }) => {
        const p = requireProduct(params.sku!);
        catalog.products = catalog.products.filter((x) => x !== p);
        return true;
      },
    },
    {
      method: 'GET',
      path: '/V1/customers/search',
      resources: customers,
      handle: ({ query }) =>
        listRead('customers', search(catalog.customers, criteria(query), customerSearch, (c) => c.id, pastLastPage())),
    },
    {
      method: 'GET',
      path: '/V1/customers/:customerId',
      resources: customers,
      handle: ({ params }) => {
        const id = intParam(params.customerId!);
        const c = catalog.customers.find((x) => x.id === id);
        if (!c) {
          // NoSuchEntityException::singleField('customerId', $customerId)
          throw new MagentoException('noSuchEntity', 'No such entity with %fieldName = %fieldValue', {
            fieldName: 'customerId',
            fieldValue: id,
          });
        }
        return c;
      },
    },
    {
      method: 'GET',
      path: '/V1/orders',
      resources: orders,
      handle: ({ query }) =>
        listRead('orders', search(catalog.orders, criteria(query), orderSearch, (x) => x.entity_id, pastLastPage())),
    },
    {
      method: 'GET',
      path: '/V1/orders/:id',
      resources: orders,
      handle: ({ params }) => {
        const id = intParam(params.id!);
        const order = catalog.orders.find((x) => x.entity_id === id);
        if (!order) {
          throw new MagentoException('noSuchEntity', "The entity that was requested doesn't exist. Verify the entity and try again.");
        }
        return order;
      },
    },
    // Granted to no integration by default: the mock's example of a resource outside the integration's ACL.
    { method: 'GET', path: '/V1/store/storeConfigs', resources: [RESOURCES.stores], anonymousWhenInsecure: true, handle: () => [o.storeConfig()] },
    {
      method: 'GET',
      path: '/V1/store/storeViews',
      resources: [RESOURCES.stores],
      anonymousWhenInsecure: true,
      handle: () => [ADMIN_STORE_VIEW, ...(o.settings?.storeViews ?? [])],
    },
    { method: 'GET', path: '/V1/categories', resources: [RESOURCES.categories], anonymousWhenInsecure: true, handle: () => catalog.categories },
    // GroupManagementInterface::getDefaultGroup (Magento_Customer::group, never anonymous): the connector's
    // revocation probe. Not granted by default, as in a store whose merchant ticked only what the CRM reads.
    {
      method: 'GET',
      path: '/V1/customerGroups/default',
      resources: [RESOURCES.customerGroups],
      handle: () => ({ id: 1, code: 'General', tax_class_id: 3, tax_class_name: 'Retail Customer' }),
    },
    // An anonymous route (Magento_Directory's webapi.xml): Magento never looks at the caller's token for it.
    {
      method: 'GET',
      path: '/V1/directory/currency',
      resources: ['anonymous'],
      handle: () => ({ base_currency_code: 'USD', base_currency_symbol: '$', default_display_currency_code: 'USD', default_display_currency_symbol: '$' }),
    },
    {
      method: 'GET',
      path: '/V1/stockItems/:productSku',
      resources: [RESOURCES.inventory],
      handle: ({ params }) => {
        const p = requireProduct(params.productSku!);
        const qty = catalog.stock.get(p.id) ?? 100;
        return {
          item_id: p.id,
          product_id: p.id,
          stock_id: 1,
          qty,
          is_in_stock: qty > 0,
          is_qty_decimal: false,
          manage_stock: true,
          min_qty: 0,
          min_sale_qty: 1,
          max_sale_qty: 10000,
          low_stock_date: null,
          backorders: 0,
        };
      },
    },
    ...(o.bulk
      ? ([
          {
            method: 'GET',
            path: '/V1/bulk/:bulkUuid/detailed-status',
            resources: [RESOURCES.bulk],
            handle: ({ params }) => o.bulk!.status(params.bulkUuid!, true),
          },
          {
            method: 'GET',
            path: '/V1/bulk/:bulkUuid/status',
            resources: [RESOURCES.bulk],
            handle: ({ params }) => o.bulk!.status(params.bulkUuid!, false),
          },
          {
            method: 'GET',
            path: '/V1/bulk/:bulkUuid/operation-status/:status',
            resources: [RESOURCES.bulk],
            handle: ({ params }) => {
              const summary = o.bulk!.status(params.bulkUuid!, false) as { operations_list: { status: number }[] };
              return summary.operations_list.filter((x) => String(x.status) === params.status).length;
            },
          },
        ] satisfies RouteDef[])
      : []),
  ];
}

