// A connector with a store already connected the real way (callback, request token, the merchant signing up in the
// popup, access token) and an API key for its account: the starting point of every "calls" test.
//
//   const a = await activatedStore(backend, t, { connector: { limits: { cacheTtlMs: 50 } } });
//   const res = await a.api('GET', 'V1/products/24-MB01');   // ANY /api/stores/:id/rest/V1/products/24-MB01
import type { ExecutionContext } from 'ava';
import type { Context, Next } from 'koa';
import { createMockStore, type MockStore, type MockStoreOptions } from '../../src/mock-store/app.js';
import type { Binding } from '../../src/storage/types.js';
import {
  Browser,
  createAndActivate,
  finishInPopup,
  startConnector,
  waitForState,
  type Connector,
  type ConnectorOptions,
} from './connector.js';
import type { Backend } from './db.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The body's bytes, as received. */
  bytes: Buffer;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface ApiInit {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The API key to send; the store's own key by default, null for no Authorization header at all. */
  key?: string | null;
}

/** One body a REST request carried to the mock store, captured before the mock read it. */
export interface CapturedBody {
  method: string;
  path: string;
  contentType: string | undefined;
  body: Buffer;
}

export interface CapturingMockStore extends MockStore {
  /** Bodies of the requests that reached `.../rest/...`, in arrival order. */
  bodies: CapturedBody[];
}

export interface ConnectedStore {
  mock: CapturingMockStore;
  integrationId: number;
  consumerKey: string;
  storeId: string;
  accountId: string;
  apiKey: string;
  email: string;
  password: string;
  /** The merchant's browser: it holds the session the popup started. */
  browser: Browser;
  binding: Binding;
  /** `${connector.url}/api/stores/${storeId}/rest/` */
  restUrl: string;
}

export interface ActivatedStore extends ConnectedStore {
  connector: Connector;
  /** Calls the proxy for this store: `api('GET', 'V1/products?x=1')`. */
  api(method: string, path: string, init?: ApiInit): Promise<ApiResponse>;
}

export interface ActivatedOptions {
  connector?: ConnectorOptions;
  mock?: MockStoreOptions;
  email?: string;
  password?: string;
  /** Keep the signing profile detected after activation (default: forgotten, see connectStore). */
  keepProfile?: boolean;
}

let accounts = 0;

/** A mock store (test knobs on) that also records the raw body of every REST request it receives. */
export async function startCapturingMockStore(t: ExecutionContext, options: MockStoreOptions = {}): Promise<CapturingMockStore> {
  const mock = createMockStore({ testMode: true, ...options });
  const bodies: CapturedBody[] = [];
  // Runs before the mock's own middleware: reads the body, then hands the same bytes to the mock's reader.
  mock.app.middleware.unshift(async function captureBody(ctx: Context, next: Next) {
    if (/^(\/index\.php)?\/rest\//.test(ctx.path)) {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req as AsyncIterable<Buffer>) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      bodies.push({ method: ctx.method, path: ctx.path, contentType: ctx.get('Content-Type') || undefined, body });
      Object.defineProperty(ctx.req, Symbol.asyncIterator, {
        value: async function* replay() {
          if (body.length > 0) yield body;
        },
      });
    }
    await next();
  });
  await mock.start(0);
  t.teardown(() => mock.close());
  return Object.assign(mock, { bodies });
}

/** Connects one more store to a running connector: a new integration in `mock`, a merchant signing up (or in). */
export async function connectStore(
  connector: Connector,
  mock: CapturingMockStore,
  options: { email?: string; password?: string; form?: 'signup' | 'login'; name?: string; keepProfile?: boolean } = {},
): Promise<ConnectedStore> {
  const email = options.email ?? `merchant${++accounts}-${process.pid}@example.com`;
  const password = options.password ?? 'correct horse battery staple';
  // The merchant's account exists first (signed up on the account page unless signing in to an existing one), and
  // the integration carries its own URLs (issue 13); the popup then only signs in.
  const { integrationId, consumerKey, popupUrl } = await createAndActivate(mock, connector, options.name ?? `CRM ${email}`, { email, password });
  await waitForState(connector, consumerKey, 'request_token');
  const browser = new Browser();
  const done = await finishInPopup(browser, connector, popupUrl, 'login', email, password);
  if (done.status !== 302) throw new Error(`the popup answered ${done.status}: ${done.text.slice(0, 500)}`);
  await waitForState(connector, consumerKey, 'active');
  // The signing-profile detection runs in the background after the access token: let it finish, so the binding
  // tests start from is the one that stays.
  await connector.running.services.activation.drain();
  let binding = (await connector.binding(consumerKey))!;
  if (!options.keepProfile) {
    // Most suites test a store whose verifier is not known (the common form, and its refusals): the detected profile
    // is forgotten, and the detection's probes are taken out of the mock's request log and captured bodies.
    const { storage, stores } = connector.running.services;
    binding = (await storage.bindings.update(binding.id, binding.version, { signingProfile: null, profileDetectedAt: null })) ?? binding;
    stores.evictCached(binding.id);
    mock.knobs.clearRequests();
    mock.bodies.length = 0;
  }
  const accountId = binding.accountId!;
  const { key } = await connector.running.services.accounts.createApiKey(accountId, 'test key');
  return {
    mock,
    integrationId,
    consumerKey,
    storeId: binding.id,
    accountId,
    apiKey: key,
    email,
    password,
    browser,
    binding,
    restUrl: `${connector.url}/api/stores/${binding.id}/rest/`,
  };
}

/** Any call to the connector with an API key. */
export async function callApi(url: string, method: string, key: string | null, init: Omit<ApiInit, 'key'> = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...init.headers };
  if (key !== null) headers.authorization ??= `Bearer ${key}`;
  const body = typeof init.body === 'string' || init.body === undefined ? init.body : new Uint8Array(init.body);
  const res = await fetch(url, { method, headers, body, redirect: 'manual' });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, bytes, text, json };
}

/** A mock store and a connector, one store connected through a real activation, and an API key for its account. */
export async function activatedStore(backend: Backend, t: ExecutionContext, options: ActivatedOptions = {}): Promise<ActivatedStore> {
  const mock = await startCapturingMockStore(t, options.mock);
  const connector = await startConnector(backend, t, options.connector);
  const store = await connectStore(connector, mock, { email: options.email, password: options.password, keepProfile: options.keepProfile ?? false });
  return {
    ...store,
    connector,
    api: (method, path, init = {}) =>
      callApi(store.restUrl + path, method, init.key === undefined ? store.apiKey : init.key, init),
  };
}

/** Asserts an error the connector produced itself (status, X-Connector-Error, X-Request-Id, our JSON shape); its message. */
export function ours(t: ExecutionContext, res: ApiResponse, status: number, code: string): string {
  t.is(res.status, status, res.text.slice(0, 500));
  t.is(res.headers.get('x-connector-error'), code);
  t.truthy(res.headers.get('x-request-id'));
  const body = res.json as { error: { code: string; message: string } };
  t.is(body.error.code, code);
  t.true(body.error.message.length > 10, 'the message says something');
  return body.error.message;
}
