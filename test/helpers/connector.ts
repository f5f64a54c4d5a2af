// End-to-end harness: a mock Magento store and a connector (real HTTP, a fresh database of the chosen backend), plus
// a tiny cookie-keeping browser for the popup and the account page. Durations are shortened so tests run in seconds.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { startServer, type RunningServer, type ServiceOverrides } from '../../src/app.js';
import { OffsetClock } from '../../src/clock.js';
import { DEFAULT_DURATIONS, DEFAULT_LIMITS, loadConfig, type Config, type Durations, type Limits } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createMockStore, type MockStore, type MockStoreOptions } from '../../src/mock-store/app.js';
import type { CallbackFields } from '../../src/mock-store/callback.js';
import type { RequestLogEntry } from '../../src/mock-store/knobs.js';
import type { ProbeConfig } from '../../src/probes/prober.js';
import type { Binding } from '../../src/storage/types.js';
import { DEFAULT_WEBHOOK_CONFIG, type WebhookConfig } from '../../src/webhooks/config.js'; // crm
import { freshDatabase, type Backend } from './db.js';

export const TEST_DURATIONS: Durations = {
  ...DEFAULT_DURATIONS,
  requestTokenWaitMs: 5_000,
  retryBaseDelayMs: 50,
  retryMaxDelayMs: 400,
  // Longer than a token call may take (TEST_LIMITS.tokenCallTimeoutMs) plus its database writes on a loaded machine:
  // a claim that runs out while its holder is still working lets a second instance repeat the step.
  stepLeaseMs: 10_000,
};

// crm: private receivers (the test's own, on 127.0.0.1), retries after tens of milliseconds.
export const TEST_WEBHOOKS: WebhookConfig = {
  ...DEFAULT_WEBHOOK_CONFIG,
  allowPrivateUrls: true,
  connectTimeoutMs: 1_000,
  totalTimeoutMs: 2_000,
  retryBaseDelayMs: 40,
  retryMaxDelayMs: 200,
  claimMs: 3_500,
  // Each poll is a query; every test connector runs a worker, so not too often (an attempt ending polls at once).
  pollIntervalMs: 250,
};

export const TEST_LIMITS: Limits = {
  ...DEFAULT_LIMITS,
  connectTimeoutMs: 2_000,
  totalTimeoutMs: 5_000,
  tokenCallTimeoutMs: 3_000,
  // Every test's callbacks come from 127.0.0.1: the rate limits have their own test (test/activation/account-urls.test.ts).
  callbackRatePerAddress: 100_000,
  callbackRatePerAccount: 100_000,
};

export interface Connector {
  backend: Backend;
  url: string;
  running: RunningServer;
  clock: OffsetClock;
  config: Config;
  databaseUrl: string;
  /** Everything the connector logged, as JSON lines. */
  logs(): string;
  binding(consumerKey: string): Promise<Binding | null>;
  stop(): Promise<void>;
}

export interface ConnectorOptions {
  durations?: Partial<Durations>;
  limits?: Partial<Limits>;
  /** Share a database with another connector (multi-instance tests). */
  databaseUrl?: string;
  secretsKey?: string;
  overrides?: ServiceOverrides;
  /** Revocation probes (default: off). */
  probes?: Partial<ProbeConfig>;
  /** crm: webhook delivery settings (default: private receivers allowed, fast retries). */
  webhooks?: Partial<WebhookConfig>;
  /** ALLOW_PRIVATE_STORE_URLS (default true: the mock store listens on 127.0.0.1 over http). */
  allowPrivate?: boolean;
  /** More environment for loadConfig (e.g. OIDC_ISSUER, SMTP_URL, LOCAL_ACCOUNTS). */
  env?: Record<string, string>;
  /**
   * OPEN_SIGNUP_ACTIVATION (default false, as in the product): true also opens the shared URLs (sign-up in the
   * popup), which createAndActivate and postCallback then use unless given an owner or a URL. Without it every
   * activation goes through an account's own URLs, as a real merchant's does (issue 13).
   */
  openSignup?: boolean;
}

export const testSecretsKey = (): string => `t1:${randomBytes(32).toString('base64')}`;

export async function startConnector(backend: Backend, t: ExecutionContext, options: ConnectorOptions = {}): Promise<Connector> {
  const database = options.databaseUrl ? null : await freshDatabase(backend);
  const databaseUrl = options.databaseUrl ?? database!.url;
  const dataDir = mkdtempSync(join(tmpdir(), 'connector-test-'));
  const config = loadConfig(
    { PORT: '0', DATABASE_URL: databaseUrl, SECRETS_KEY: options.secretsKey ?? testSecretsKey(), ALLOW_PRIVATE_STORE_URLS: String(options.allowPrivate ?? true), LOG_LEVEL: 'debug', DATA_DIR: dataDir, OPEN_SIGNUP_ACTIVATION: String(options.openSignup ?? false), ...options.env },
    {},
  );
  config.durations = { ...TEST_DURATIONS, ...options.durations };
  config.limits = { ...TEST_LIMITS, ...options.limits };
  config.webhooks = { ...TEST_WEBHOOKS, ...options.webhooks }; // crm
  // Revocation probes off unless a test asks for them: a probe at a random moment would write warnings.
  config.probes = { ...config.probes, ratePerSecond: 0, ...options.probes };
  const clock = new OffsetClock();
  let logged = '';
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => (logged += chunk.toString('utf8')));
  const running = await startServer(config, { clock, logger: createLogger('debug', sink), ...options.overrides });
  config.publicUrl = running.url;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await running.stop();
    await database?.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  };
  t.teardown(stop);
  return {
    backend,
    url: running.url,
    running,
    clock,
    config,
    databaseUrl,
    logs: () => logged,
    binding: (consumerKey) => running.services.storage.bindings.byConsumerKey(consumerKey),
    stop,
  };
}

export async function startMockStore(t: ExecutionContext, options: MockStoreOptions = {}): Promise<MockStore> {
  // Magento waits 5 s for the callback by default (oauth/consumer/post_timeout, which a store admin can raise). The
  // end-to-end suites must not fail because a loaded test machine answered in 6 s: they give the callback 30 s. The
  // 5 s default itself is tested in test/mock-store, and the connector's answer time is measured by bench/ (storm).
  const mock = createMockStore({ testMode: true, callbackTimeoutMs: 30_000, ...options });
  await mock.start(0);
  t.teardown(() => mock.close());
  return mock;
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs` (generous: a loaded machine is no failure). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false | null> | T | undefined | false | null, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface PageResponse {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

/** A browser enough for forms: keeps cookies per origin-less jar, never follows redirects by itself. */
export class Browser {
  readonly cookies = new Map<string, string>();

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method: string, url: string, init: { form?: Record<string, string>; headers?: Record<string, string>; body?: string } = {}): Promise<PageResponse> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    let body = init.body;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.remember(res.headers);
    return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get('location') };
  }

  get(url: string): Promise<PageResponse> {
    return this.request('GET', url);
  }

  post(url: string, form: Record<string, string>): Promise<PageResponse> {
    return this.request('POST', url, { form });
  }
}

/** The hidden fields of the first form on a page (csrf, oauth_consumer_key, success_call_back). */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[m[1]!] ??= decodeHtml(m[2]!);
  }
  return out;
}

/** HTML text with the entities our templates produce decoded (nunjucks escapes & " ' < >). */
export function decodeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The one password the tests sign up with. */
export const PASSWORD = 'correct horse battery';

export interface Owner {
  email: string;
  password: string;
}

export interface Activation {
  integrationId: number;
  consumerKey: string;
  popupUrl: string;
  /** Whose URLs the integration was saved with; null: the shared URLs (OPEN_SIGNUP_ACTIVATION). */
  owner: Owner | null;
}

/**
 * The merchant a test connector's activations belong to unless a test names another: an account made the way the
 * account page's sign-up makes one, whose own Callback and Identity Link URLs the mock store's integrations carry.
 */
export const MERCHANT: Owner = { email: 'merchant@example.com', password: PASSWORD };

/** The account of `owner`, created (as the account page's sign-up would) when it does not exist yet; its id. */
export async function ensureAccount(connector: Connector, owner: Owner): Promise<string> {
  const { accounts, storage } = connector.running.services;
  const existing = await storage.accounts.byEmail(owner.email);
  if (existing) return existing.id;
  return (await accounts.signUp(owner.email, owner.password, '127.0.0.1')).id;
}

/** The shared URLs (answered only with OPEN_SIGNUP_ACTIVATION=true). */
export function sharedUrls(connector: Connector): { callbackUrl: string; identityLinkUrl: string } {
  return { callbackUrl: `${connector.url}/magento/callback`, identityLinkUrl: `${connector.url}/magento/identity` };
}

/** The two URLs to paste into Magento: `owner`'s own (the account is created if needed), as its account page shows them. */
export async function activationUrlsFor(connector: Connector, owner: Owner = MERCHANT): Promise<{ callbackUrl: string; identityLinkUrl: string }> {
  const accountId = await ensureAccount(connector, owner);
  return connector.running.services.activation.activationUrls(accountId, connector.url);
}

/** The popup as Magento opens it for `consumerKey`: `owner`'s own Identity Link URL (MERCHANT's by default) or 'shared'. */
export async function popupUrlFor(connector: Connector, consumerKey: string, owner: Owner | 'shared' = MERCHANT, successCallBack?: string): Promise<string> {
  const url = new URL(owner === 'shared' ? sharedUrls(connector).identityLinkUrl : (await activationUrlsFor(connector, owner)).identityLinkUrl);
  url.searchParams.set('oauth_consumer_key', consumerKey);
  if (successCallBack) url.searchParams.set('success_call_back', successCallBack);
  return url.href;
}

/**
 * Creates an integration in the mock store pointing at the connector and clicks Activate. `owner` (MERCHANT by
 * default): the integration carries that account's own URLs (issue 13). `'shared'`: the shared URLs, only on a
 * connector started with `openSignup: true`, which also makes them the default.
 */
export async function createAndActivate(mock: MockStore, connector: Connector, name = 'CRM', owner?: Owner | 'shared'): Promise<Activation> {
  const shared = owner === 'shared' || (owner === undefined && connector.config.openSignupActivation);
  const who = shared ? null : (owner ?? MERCHANT);
  const integration = mock.admin.create({ name, ...(who ? await activationUrlsFor(connector, who) : sharedUrls(connector)) });
  const result = await mock.admin.activate(integration.id);
  if (!result.popupUrl || !result.callback?.ok) throw new Error(`activation failed: ${JSON.stringify(result.callback)}`);
  return { integrationId: integration.id, consumerKey: integration.consumerKey, popupUrl: result.popupUrl, owner: who };
}

/** Activates an integration and finishes it with a sign-up in the popup; also returns the active binding. */
export async function activateAndSignUp(mock: MockStore, connector: Connector, email: string, name = 'CRM', browser = new Browser()) {
  // The merchant has an account (signed up on the account page) and pastes its own URLs into Magento (issue 13).
  const activation = await createAndActivate(mock, connector, name, { email, password: PASSWORD });
  await waitForState(connector, activation.consumerKey, 'request_token');
  const done = await finishInPopup(browser, connector, activation.popupUrl, 'login', email, PASSWORD);
  if (done.status !== 302) throw new Error(`popup answered ${done.status}: ${done.text.slice(0, 300)}`);
  await connector.running.services.activation.drain(); // the signing-profile detection after the access token
  const binding = (await connector.binding(activation.consumerKey))!;
  return { ...activation, binding };
}

/** Opens the popup and submits the sign-up (or sign-in) form, as the merchant would. */
export async function finishInPopup(
  browser: Browser,
  connector: Connector,
  popupUrl: string,
  form: 'signup' | 'login',
  email: string,
  password: string,
): Promise<PageResponse> {
  const page = await browser.get(popupUrl);
  if (page.status !== 200) throw new Error(`popup answered ${page.status}: ${page.text.slice(0, 300)}`);
  // The popup's forms post under its own path: /magento/identity/<token>/login, or /magento/identity/login (shared).
  const base = popupBase(popupUrl);
  const shared = base === '/magento/identity';
  if (!shared && form === 'signup') throw new Error("an account's own popup offers no sign-up: sign in as a member of its account");
  // The shared popup binds a store only once its URL is confirmed (the checkbox a person ticks).
  const confirm: Record<string, string> = shared ? { confirm_store: 'yes' } : {};
  return browser.post(`${connector.url}${base}/${form}`, { ...hiddenFields(page.text), ...confirm, email, password });
}

/** The path the popup's forms post under: /magento/identity/<token>, or /magento/identity (shared). */
export function popupBase(popupUrl: string): string {
  return new URL(popupUrl).pathname.replace(/\/+$/, '');
}

/**
 * Asserts that the binding is the same one as `before`, active again with no error left, holding the access token
 * Magento holds for the integration; returns it.
 */
export async function assertConnectedAgain(
  t: ExecutionContext,
  connector: Connector,
  mock: MockStore,
  integrationId: number,
  before: Binding,
): Promise<Binding> {
  const after = await connector.binding(before.consumerKey);
  if (!after) return t.fail('the binding is gone') as never;
  t.like(after, { state: 'active', id: before.id, accountId: before.accountId, revokedAt: null, lastError: null, fix: null });
  t.is(after.accessToken?.token, mock.admin.get(integrationId).tokens[0]!.token, "the access token Magento holds");
  return after;
}

// As generous as waitFor: a request token fetched on a machine at load 40 can take longer than 10 s, and is no failure.
export async function waitForState(connector: Connector, consumerKey: string, state: Binding['state'], timeoutMs = 45_000): Promise<Binding> {
  return waitFor(`binding ${consumerKey} to be ${state}`, async () => {
    const b = await connector.binding(consumerKey);
    return b?.state === state ? b : undefined;
  }, timeoutMs);
}

/** The four fields of Magento's callback POST (docs/magento-protocol.md §2), as the mock store sends them. */
export type { CallbackFields };

/** What the mock posted on the integration's latest Activate/Reauthorize: its newest token row carries the verifier. */
export function callbackFieldsOf(mock: MockStore, integrationId: number): CallbackFields {
  const view = mock.admin.get(integrationId);
  const newest = view.tokens.at(-1);
  if (!newest) throw new Error(`integration ${integrationId} has no token rows`);
  return {
    oauth_consumer_key: view.consumerKey,
    oauth_consumer_secret: view.consumerSecret,
    store_base_url: mock.baseUrl,
    oauth_verifier: newest.verifier,
  };
}

export interface CallbackResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: { status?: string; error?: { code: string; message: string } } | undefined;
}

/**
 * POSTs to a Callback URL: form fields (in the given order) or a raw body with its content type. `url`: MERCHANT's
 * own Callback URL by default (the shared one on a connector started with `openSignup: true`).
 */
export async function postCallback(
  connector: Connector,
  body: Record<string, string> | [string, string][] | string | undefined,
  contentType: string | null = 'application/x-www-form-urlencoded',
  url?: string,
): Promise<CallbackResponse> {
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
  const payload = body === undefined || typeof body === 'string' ? body : new URLSearchParams(body).toString();
  const to = url ?? (connector.config.openSignupActivation ? sharedUrls(connector) : await activationUrlsFor(connector)).callbackUrl;
  const res = await fetch(to, { method: 'POST', headers, body: payload, redirect: 'manual' });
  const text = await res.text();
  let json: CallbackResponse['json'];
  try {
    json = JSON.parse(text) as CallbackResponse['json'];
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The token-endpoint calls that reached the mock store (request log), faulted ones included. */
export function tokenCalls(mock: MockStore, endpoint: 'request' | 'access'): RequestLogEntry[] {
  return mock.knobs.requests().filter((r) => r.path.endsWith(`/oauth/token/${endpoint}`));
}

/** Lets background request-token work finish, then runs whatever is due once more (what the 1 s loop does). */
export async function settle(connector: Connector): Promise<void> {
  const { activation } = connector.running.services;
  await activation.drain();
  await activation.resumeDue();
  await activation.drain();
}

/** A mock store and a connector (in that order: the connector stops first when the test ends), the start of most activation tests. */
export async function storeAndConnector(backend: Backend, t: ExecutionContext, options: ConnectorOptions = {}): Promise<{ mock: MockStore; connector: Connector }> {
  const mock = await startMockStore(t);
  const connector = await startConnector(backend, t, options);
  return { mock, connector };
}
