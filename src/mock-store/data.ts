// Sample catalog, customers and orders, shaped like Magento 2.4's REST output (Luma-style sample data). Enough
// rows for paging: 32 products, 6 customers, 14 orders. SKUs include a space, a slash and a plus, the cases that
// break path encoding in the field.

export interface Product {
  id: number;
  sku: string;
  name: string;
  attribute_set_id: number;
  price: number;
  status: number;
  visibility: number;
  type_id: string;
  created_at: string;
  updated_at: string;
  weight?: number;
  extension_attributes: { website_ids: number[]; category_links: { position: number; category_id: string }[] };
  product_links: unknown[];
  options: unknown[];
  media_gallery_entries: unknown[];
  tier_prices: unknown[];
  custom_attributes: { attribute_code: string; value: unknown }[];
}

export interface Customer {
  id: number;
  group_id: number;
  default_billing?: string;
  default_shipping?: string;
  created_at: string;
  updated_at: string;
  created_in: string;
  email: string;
  firstname: string;
  lastname: string;
  gender: number;
  store_id: number;
  website_id: number;
  addresses: unknown[];
  disable_auto_group_change: number;
  extension_attributes: { is_subscribed: boolean };
}

export interface Order {
  entity_id: number;
  increment_id: string;
  created_at: string;
  updated_at: string;
  state: string;
  status: string;
  customer_id: number | null;
  customer_is_guest: number;
  customer_email: string;
  customer_firstname: string;
  customer_lastname: string;
  base_currency_code: string;
  order_currency_code: string;
  store_id: number;
  subtotal: number;
  shipping_amount: number;
  grand_total: number;
  total_qty_ordered: number;
  items: { item_id: number; order_id: number; sku: string; name: string; product_id: number; product_type: string; qty_ordered: number; price: number; row_total: number }[];
  billing_address: Record<string, unknown>;
  payment: { method: string; amount_ordered: number };
  status_histories: unknown[];
  extension_attributes: Record<string, unknown>;
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

const PRODUCT_SEED: [sku: string, name: string, price: number, type: string, attributeSet: number][] = [
  ['24-MB01', 'Joust Duffle Bag', 34, 'simple', 15],
  ['24-MB04', 'Strive Shoulder Pack', 32, 'simple', 15],
  ['24-MB03', 'Crown Summit Backpack', 38, 'simple', 15],
  ['24-MB05', 'Wayfarer Messenger Bag', 45, 'simple', 15],
  ['24-MB06', 'Rival Field Messenger', 45, 'simple', 15],
  ['24-MB02', 'Fusion Backpack', 59, 'simple', 15],
  ['24-UB02', 'Impulse Duffle', 74, 'simple', 15],
  ['24-WB01', 'Voyage Yoga Bag', 32, 'simple', 15],
  ['24-WB02', 'Compete Track Tote', 32, 'simple', 15],
  ['24-WB05', 'Savvy Shoulder Tote', 32, 'simple', 15],
  ['24-WB06', 'Endeavor Daytrip Backpack', 33, 'simple', 15],
  ['24-WB03', 'Driven Backpack', 36, 'simple', 15],
  ['24-WB04', 'Overnight Duffle', 45, 'simple', 15],
  ['24-WB07', 'Push It Messenger Bag', 45, 'simple', 15],
  ['24-UG06', 'Affirm Water Bottle', 7, 'simple', 11],
  ['24-UG07', 'Dual Handle Cardio Ball', 12, 'simple', 11],
  ['24-UG04', 'Zing Jump Rope', 12, 'simple', 11],
  ['24-UG02', 'Pursuit Lumaflex Tone Band', 16, 'simple', 11],
  ['24-UG05', 'Go-Get\'r Pushup Grips', 19, 'simple', 11],
  ['24-UG01', 'Quest Lumaflex Band', 19, 'simple', 11],
  ['24-UG03', 'Harmony Lumaflex Strength Band Kit', 22, 'simple', 11],
  ['24-WG084', 'Sprite Foam Yoga Brick', 5, 'simple', 11],
  ['24-WG088', 'Sprite Foam Roller', 19, 'simple', 11],
  ['24-WG081-blue', 'Sprite Stasis Ball 55 cm', 23, 'simple', 11],
  ['24-WG082-blue', 'Sprite Stasis Ball 65 cm', 27, 'simple', 11],
  ['24-WG083-blue', 'Sprite Stasis Ball 75 cm', 32, 'simple', 11],
  ['MH01', 'Chaz Kangeroo Hoodie', 52, 'configurable', 9],
  ['MH02', 'Teton Pullover Hoodie', 70, 'configurable', 9],
  ['WS12', 'Radiant Tee', 22, 'configurable', 9],
  ['WS12 XS', 'Radiant Tee XS (a SKU with a space)', 22, 'simple', 9],
  ['WS12/XS-Blue', 'Radiant Tee XS Blue (a SKU with a slash)', 22, 'simple', 9],
  ['24-MG+04', 'Aim Analog Watch (a SKU with a plus)', 45, 'simple', 11],
];

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export function sampleProducts(): Product[] {
  return PRODUCT_SEED.map(([sku, name, price, type, set], i) => {
    const day = 1 + (i % 28);
    const created = `2024-${pad(1 + (i % 12))}-${pad(day)} ${pad(8 + (i % 10))}:${pad((i * 7) % 60)}:00`;
    return {
      id: i + 1,
      sku,
      name,
      attribute_set_id: set,
      price,
      status: i % 9 === 8 ? 2 : 1,
      visibility: 4,
      type_id: type,
      created_at: created,
      updated_at: created,
      ...(type === 'simple' ? { weight: 1 } : {}),
      extension_attributes: { website_ids: [1], category_links: [{ position: i, category_id: String(3 + (i % 4)) }] },
      product_links: [],
      options: [],
      media_gallery_entries: [],
      tier_prices: [],
      custom_attributes: [
        { attribute_code: 'url_key', value: slug(name) },
        { attribute_code: 'description', value: `<p>${name}.</p>` },
        { attribute_code: 'tax_class_id', value: '2' },
      ],
    };
  });
}

const CUSTOMER_SEED: [email: string, first: string, last: string, gender: number, created: string][] = [
  ['roni_cost@example.com', 'Veronica', 'Costello', 2, '2024-02-11 10:15:00'],
  ['jdoe@example.com', 'John', 'Doe', 1, '2024-04-02 14:01:12'],
  ['ayesha.khan@example.com', 'Ayesha', 'Khan', 2, '2024-06-19 08:45:30'],
  ['lucas.martin@example.com', 'Lucas', 'Martin', 1, '2024-09-30 17:20:05'],
  ['mei.tanaka@example.com', 'Mei', 'Tanaka', 2, '2024-10-25 00:00:00'],
  ['olu.adeyemi@example.com', 'Olu', 'Adeyemi', 1, '2024-11-03 12:00:00'],
];

export function sampleCustomers(): Customer[] {
  return CUSTOMER_SEED.map(([email, firstname, lastname, gender, created], i) => ({
    id: i + 1,
    group_id: 1,
    default_billing: String(i + 1),
    default_shipping: String(i + 1),
    created_at: created,
    updated_at: created,
    created_in: 'Default Store View',
    email,
    firstname,
    lastname,
    gender,
    store_id: 1,
    website_id: 1,
    addresses: [
      {
        id: i + 1,
        customer_id: i + 1,
        region: { region_code: 'MI', region: 'Michigan', region_id: 33 },
        region_id: 33,
        country_id: 'US',
        street: [`${100 + i} Main Street`],
        telephone: `555-010${i}`,
        postcode: '49628-7978',
        city: 'Calder',
        firstname,
        lastname,
        default_shipping: true,
        default_billing: true,
      },
    ],
    disable_auto_group_change: 0,
    extension_attributes: { is_subscribed: false },
  }));
}

const ORDER_DATES = [
  '2024-09-01 09:12:44',
  '2024-09-14 18:03:10',
  '2024-10-02 11:27:51',
  '2024-10-18 07:45:00',
  '2024-10-24 23:59:59',
  '2024-10-25 00:00:00',
  '2024-10-25 00:00:01',
  '2024-10-28 13:14:15',
  '2024-11-01 08:00:00',
  '2024-11-09 16:40:22',
  '2024-11-15 10:10:10',
  '2024-11-29 21:05:33',
  '2024-12-03 06:30:00',
  '2024-12-20 12:00:00',
];
const ORDER_STATES: [state: string, status: string][] = [
  ['new', 'pending'],
  ['processing', 'processing'],
  ['complete', 'complete'],
  ['canceled', 'canceled'],
];

export function sampleOrders(products: Product[], customers: Customer[]): Order[] {
  return ORDER_DATES.map((created, i) => {
    const customer = i % 5 === 4 ? null : customers[i % customers.length]!;
    const lines = [products[i % products.length]!, products[(i * 3 + 1) % products.length]!];
    const items = lines.map((p, j) => {
      const qty = 1 + ((i + j) % 3);
      return {
        item_id: i * 2 + j + 1,
        order_id: i + 1,
        sku: p.sku,
        name: p.name,
        product_id: p.id,
        product_type: p.type_id,
        qty_ordered: qty,
        price: p.price,
        row_total: p.price * qty,
      };
    });
    const subtotal = items.reduce((s, it) => s + it.row_total, 0);
    const shipping = 5 * items.length;
    const [state, status] = ORDER_STATES[i % ORDER_STATES.length]!;
    const first = customer?.firstname ?? 'Guest';
    const last = customer?.lastname ?? 'Shopper';
    return {
      entity_id: i + 1,
      increment_id: String(i + 1).padStart(9, '0'),
      created_at: created,
      updated_at: created,
      state,
      status,
      customer_id: customer?.id ?? null,
      customer_is_guest: customer ? 0 : 1,
      customer_email: customer?.email ?? `guest${i}@example.com`,
      customer_firstname: first,
      customer_lastname: last,
      base_currency_code: 'USD',
      order_currency_code: 'USD',
      store_id: 1,
      subtotal,
      shipping_amount: shipping,
      grand_total: subtotal + shipping,
      total_qty_ordered: items.reduce((s, it) => s + it.qty_ordered, 0),
      items,
      billing_address: {
        address_type: 'billing',
        city: 'Calder',
        country_id: 'US',
        email: customer?.email ?? `guest${i}@example.com`,
        firstname: first,
        lastname: last,
        postcode: '49628-7978',
        street: ['100 Main Street'],
        telephone: '555-0100',
      },
      payment: { method: 'checkmo', amount_ordered: subtotal + shipping },
      status_histories: [],
      extension_attributes: {},
    };
  });
}

export interface Category {
  id: number;
  parent_id: number;
  name: string;
  is_active: boolean;
  position: number;
  level: number;
  product_count: number;
  children_data: Category[];
}

/** The category tree GET /V1/categories returns (root "Default Category", id 2; products link to 3-6). */
export function sampleCategories(products: Product[]): Category {
  const names = ['Gear', 'Bags', 'Fitness Equipment', 'Watches'];
  const count = (id: number): number =>
    products.filter((p) => p.extension_attributes.category_links.some((l) => l.category_id === String(id))).length;
  const children = names.map((name, i) => ({
    id: 3 + i,
    parent_id: 2,
    name,
    is_active: true,
    position: i + 1,
    level: 2,
    product_count: count(3 + i),
    children_data: [],
  }));
  return { id: 2, parent_id: 1, name: 'Default Category', is_active: true, position: 1, level: 1, product_count: products.length, children_data: children };
}

export type EntityKind = 'products' | 'customers' | 'orders';

const SHARED_ORDER_PARTS = Object.freeze({ status_histories: [], extension_attributes: {} });

/** The store's mutable data: REST writes go here, tests may read or replace it. */
export class Catalog {
  products: Product[];
  customers: Customer[];
  orders: Order[];
  categories: Category;
  /** Stock quantity per product id (GET /V1/stockItems/:sku); 100 unless set. */
  stock = new Map<number, number>();
  private nextProductId: number;
  /** One-shot changes armed by the touch knob: applied after the Nth read of an entity list. */
  private pendingTouches: { entity: EntityKind; ids: number[]; afterReads: number }[] = [];

  constructor(sample = true) {
    this.products = sample ? sampleProducts() : [];
    this.customers = sample ? sampleCustomers() : [];
    this.orders = sample ? sampleOrders(this.products, this.customers) : [];
    this.categories = sampleCategories(this.products);
    this.nextProductId = this.products.reduce((m, p) => Math.max(m, p.id), 0) + 1;
  }

  private list(entity: EntityKind): { id: number; updated_at: string }[] {
    if (entity === 'orders') return this.orders.map((o) => ({ id: o.entity_id, updated_at: o.updated_at }));
    return this[entity];
  }

  /**
   * Bumps `updated_at` of the given entities to `at` (a MySQL 'Y-m-d H:i:s' string), as a save in the admin would.
   * Returns how many were found. The entity keeps its place (id order); its new updated_at moves it in a sort.
   */
  touch(entity: EntityKind, ids: number[], at: string): number {
    const wanted = new Set(ids);
    let n = 0;
    const bump = <T extends { updated_at: string }>(x: T): T => {
      n++;
      return { ...x, updated_at: at };
    };
    if (entity === 'orders') this.orders = this.orders.map((o) => (wanted.has(o.entity_id) ? bump(o) : o));
    else if (entity === 'products') this.products = this.products.map((p) => (wanted.has(p.id) ? bump(p) : p));
    else this.customers = this.customers.map((c) => (wanted.has(c.id) ? bump(c) : c));
    return n;
  }

  /** Arms a touch to happen right after the `afterReads`-th list read (search) of that entity from now. */
  touchAfterReads(entity: EntityKind, ids: number[], afterReads: number): void {
    this.pendingTouches.push({ entity, ids, afterReads });
  }

  /** Called by the list routes after answering a read; applies the touches that are due. */
  afterListRead(entity: EntityKind, at: string): void {
    const due: typeof this.pendingTouches = [];
    for (const t of this.pendingTouches) if (t.entity === entity && --t.afterReads <= 0) due.push(t);
    if (!due.length) return;
    this.pendingTouches = this.pendingTouches.filter((t) => !due.includes(t));
    for (const t of due) this.touch(t.entity, t.ids, at);
  }

  /** Ids of one entity kind, for tests. */
  ids(entity: EntityKind): number[] {
    return this.list(entity).map((x) => x.id);
  }

  /**
   * Adds `count` light orders (one line each, shared empty parts) after the existing ones: cheap enough for a
   * 100,000-order benchmark. created_at/updated_at advance one second every three orders from `start`, so
   * several orders share an updated_at (page boundaries fall inside ties).
   */
  seedOrders(count: number, start = '2025-01-01 00:00:00'): number {
    const base = Date.parse(start.replace(' ', 'T') + 'Z');
    let id = this.orders.reduce((m, o) => Math.max(m, o.entity_id), 0);
    const products = this.products.length ? this.products : sampleProducts();
    const added: Order[] = [];
    for (let i = 0; i < count; i++) {
      id++;
      const p = products[id % products.length]!;
      const at = new Date(base + Math.floor(i / 3) * 1000).toISOString().slice(0, 19).replace('T', ' ');
      const total = p.price + 5;
      added.push({
        entity_id: id,
        increment_id: String(id).padStart(9, '0'),
        created_at: at,
        updated_at: at,
        state: 'new',
        status: 'pending',
        customer_id: null,
        customer_is_guest: 1,
        customer_email: `guest${id}@example.com`,
        customer_firstname: 'Guest',
        customer_lastname: 'Shopper',
        base_currency_code: 'USD',
        order_currency_code: 'USD',
        store_id: 1,
        subtotal: p.price,
        shipping_amount: 5,
        grand_total: total,
        total_qty_ordered: 1,
        items: [{ item_id: id, order_id: id, sku: p.sku, name: p.name, product_id: p.id, product_type: p.type_id, qty_ordered: 1, price: p.price, row_total: p.price }],
        billing_address: { address_type: 'billing', email: `guest${id}@example.com`, firstname: 'Guest', lastname: 'Shopper' },
        payment: { method: 'checkmo', amount_ordered: total },
        status_histories: SHARED_ORDER_PARTS.status_histories,
        extension_attributes: SHARED_ORDER_PARTS.extension_attributes,
      });
    }
    for (const o of added) this.orders.push(o);
    return count;
  }

  /** MySQL's utf8_general_ci: SKU lookups ignore case. */
  productBySku(sku: string): Product | undefined {
    const k = sku.toLowerCase();
    return this.products.find((p) => p.sku.toLowerCase() === k);
  }

  allocateProductId(): number {
    return this.nextProductId++;
  }
}
