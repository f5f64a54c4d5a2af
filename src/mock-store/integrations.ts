// What the Magento admin does with an integration (System > Extensions > Integrations), as domain operations the
// admin page, the admin JSON API and tests share. Ported from Controller\Adminhtml\Integration\{Save,
// TokensExchange, TokensDialog, Delete} and OauthService::{createConsumer, postToConsumer, createAccessToken,
// deleteIntegrationToken}.
import { postToConsumer, type CallbackOptions, type CallbackResult } from './callback.js';
import type { IntegrationRow, MagentoTables, TokenRow } from './tokens.js';
import type { VerifierName } from './verifiers.js';

/**
 * The ACL resources the mock's routes check, by a short name the admin API also accepts. Magento guards store
 * configuration and the store views with the one resource `Magento_Backend::store`.
 */
export const RESOURCES = {
  products: 'Magento_Catalog::products',
  categories: 'Magento_Catalog::categories',
  customers: 'Magento_Customer::customer',
  orders: 'Magento_Sales::actions_view',
  inventory: 'Magento_CatalogInventory::cataloginventory',
  stores: 'Magento_Backend::store',
  storeConfig: 'Magento_Backend::store',
  storeViews: 'Magento_Backend::store',
  customerGroups: 'Magento_Customer::group',
  bulk: 'Magento_Logging::system_magento_logging_bulk_operations',
} as const;

/**
 * What a new integration may call unless told otherwise: everything the mock serves but the store settings and
 * store views (`Magento_Backend::store`), so a test always has a refused resource at hand.
 */
export const DEFAULT_RESOURCES: string[] = [
  RESOURCES.products,
  RESOURCES.customers,
  RESOURCES.orders,
  RESOURCES.categories,
  RESOURCES.inventory,
  RESOURCES.bulk,
];

/** Short names (`products`, `orders`, ...) to ACL ids; ACL ids and 'all' pass through. */
export function resolveResources(resources: readonly string[] | 'all'): string[] | 'all' {
  if (resources === 'all') return 'all';
  const ids = resources.map((r) => (r in RESOURCES ? RESOURCES[r as keyof typeof RESOURCES] : r));
  return [...new Set(ids)];
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface NewIntegration {
  name: string;
  callbackUrl?: string;
  identityLinkUrl?: string;
  email?: string;
  /** ACL ids or short names of RESOURCES; 'all' = Resource Access: All. Default DEFAULT_RESOURCES. */
  resources?: string[] | 'all';
  /** The verifier this integration's requests are judged by (default: the store's). */
  verifier?: VerifierName | null;
}

/** Magento's "Integration Details" tab of an active integration: the four values to paste elsewhere. */
export interface IntegrationDetails {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
}

export interface ActivationResult {
  /** The identity popup the admin opens; null when there is none (callback failed, or no third party). */
  popupUrl: string | null;
  callback: CallbackResult | null;
  /** Only when Magento minted the tokens itself (no Callback URL or no Identity Link URL). */
  tokens?: { consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string };
}

export interface IntegrationView {
  id: number;
  name: string;
  email: string;
  callbackUrl: string;
  identityLinkUrl: string;
  status: 'inactive' | 'active';
  consumerKey: string;
  consumerSecret: string;
  resources: string[] | 'all';
  /** This integration's verifier; null = the store's (see `effectiveVerifier`). */
  verifier: VerifierName | null;
  effectiveVerifier: VerifierName;
  /** The Integration Details (consumer key/secret, access token/secret) once an access token exists, else null. */
  details: IntegrationDetails | null;
  /** When the last callback POST started: the request-token window runs from here. */
  consumerUpdatedAt: string;
  createdAt: string;
  tokens: { id: number; type: TokenRow['type']; token: string; secret: string; verifier: string; createdAt: string }[];
}

export interface IntegrationAdminOptions {
  tables: MagentoTables;
  /** store_base_url, trailing slash included. */
  storeBaseUrl: () => string;
  /** The admin URL the popup is sent back to (Magento's loginSuccessCallback). */
  successCallbackUrl: () => string;
  callback: CallbackOptions;
  /** The store's verifier, for integrations without their own. */
  storeVerifier?: () => VerifierName;
}

function validUrl(value: string | undefined, label: string): string {
  const v = (value ?? '').trim();
  if (!v) return '';
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' || u.protocol === 'https:') return v;
  } catch {
    // fall through
  }
  throw new AdminError(400, 'invalid_url', `Invalid ${label}`);
}

/** The popup URL integration.js builds: identity URL + '?' + $.param({...}) (blind `?`, spaces as `+`). */
export function popupUrl(identityLinkUrl: string, consumerKey: string, successCallbackUrl: string): string {
  const param = (k: string, v: string): string => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`;
  const query = [param('oauth_consumer_key', consumerKey), param('success_call_back', successCallbackUrl)]
    .join('&')
    .replace(/%20/g, '+');
  return `${identityLinkUrl}?${query}`;
}

export class IntegrationAdmin {
  constructor(private readonly o: IntegrationAdminOptions) {}

  private get tables(): MagentoTables {
    return this.o.tables;
  }

  create(input: NewIntegration): IntegrationView {
    const name = (input.name ?? '').trim();
    if (!name) throw new AdminError(400, 'name_required', 'The integration name is required.');
    if (this.tables.integrationByName(name)) {
      throw new AdminError(409, 'name_taken', `The integration with name "${name}" exists.`);
    }
    const endpoint = validUrl(input.callbackUrl, 'Callback URL');
    const identityLinkUrl = validUrl(input.identityLinkUrl, 'Identity Link URL');
    const consumer = this.tables.createConsumer(name, null);
    const row = this.tables.addIntegration({
      name,
      email: input.email ?? '',
      endpoint,
      identityLinkUrl,
      status: 'inactive',
      consumerId: consumer.id,
      resources: resolveResources(input.resources ?? DEFAULT_RESOURCES),
      verifier: input.verifier ?? null,
    });
    return this.view(row.id);
  }

  /**
   * Editing the integration: its Info tab (Callback URL, Identity link URL; "" clears one), its API tab (resources)
   * and, for tests, its verifier (a store "upgrade" for this one integration). `verifier: null` goes back to the
   * store's.
   */
  update(
    id: number,
    input: { resources?: string[] | 'all'; verifier?: VerifierName | null; callbackUrl?: string; identityLinkUrl?: string },
  ): IntegrationView {
    this.require(id);
    const fields: Partial<Pick<IntegrationRow, 'resources' | 'verifier' | 'endpoint' | 'identityLinkUrl'>> = {};
    if (input.callbackUrl !== undefined) fields.endpoint = validUrl(input.callbackUrl, 'Callback URL');
    if (input.identityLinkUrl !== undefined) fields.identityLinkUrl = validUrl(input.identityLinkUrl, 'Identity Link URL');
    if (input.resources !== undefined) fields.resources = resolveResources(input.resources);
    if (input.verifier !== undefined) fields.verifier = input.verifier;
    this.tables.updateIntegration(id, fields);
    return this.view(id);
  }

  /**
   * For tests replaying fixed credentials (e.g. the signing vectors): an integration whose consumer and token rows
   * carry given values. Magento has no such thing; everything after it behaves as usual.
   */
  seed(input: NewIntegration & {
    consumerKey: string;
    consumerSecret: string;
    tokens?: { type: TokenRow['type']; token: string; secret: string; verifier?: string }[];
    status?: 'inactive' | 'active';
  }): IntegrationView {
    const consumer = this.tables.createConsumer(input.name, null, { key: input.consumerKey, secret: input.consumerSecret });
    const row = this.tables.addIntegration({
      name: input.name,
      email: '',
      endpoint: input.callbackUrl ?? '',
      identityLinkUrl: input.identityLinkUrl ?? '',
      status: input.status ?? 'inactive',
      consumerId: consumer.id,
      resources: resolveResources(input.resources ?? DEFAULT_RESOURCES),
      verifier: input.verifier ?? null,
    });
    for (const t of input.tokens ?? []) {
      this.tables.insertToken({ consumerId: consumer.id, type: t.type, token: t.token, secret: t.secret, verifier: t.verifier ?? '' });
    }
    return this.view(row.id);
  }

  list(): IntegrationView[] {
    return this.tables.listIntegrations().map((i) => this.view(i.id));
  }

  get(id: number): IntegrationView {
    return this.view(id);
  }

  /** The grid offers Activate for an inactive integration only. */
  async activate(id: number): Promise<ActivationResult> {
    const row = this.require(id);
    if (row.status === 'active') {
      throw new AdminError(409, 'already_active', 'The integration is active: Magento offers Reauthorize, not Activate.');
    }
    return this.exchange(row, false);
  }

  /** The grid offers Reauthorize for an active integration only. */
  async reauthorize(id: number): Promise<ActivationResult> {
    const row = this.require(id);
    if (row.status !== 'active') {
      throw new AdminError(409, 'not_active', 'The integration is not active: Magento offers Activate, not Reauthorize.');
    }
    return this.exchange(row, true);
  }

  /** Controller\Adminhtml\Integration\Delete: integration, consumer and every token row. */
  delete(id: number): void {
    if (!this.tables.deleteIntegration(id)) throw new AdminError(404, 'not_found', `No integration with ID ${id}.`);
  }

  private async exchange(row: IntegrationRow, isReauthorize: boolean): Promise<ActivationResult> {
    if (!row.endpoint || !row.identityLinkUrl) return this.mintTokens(row, isReauthorize);
    if (isReauthorize) {
      // TokensExchange: "Remove existing token associated with consumer before issuing a new one."
      const first = this.tables.firstToken(row.consumerId);
      if (first) this.tables.deleteToken(first);
      this.tables.setIntegrationStatus(row.id, 'inactive');
    }
    // postToConsumer: updated_at first (the 300 s window starts now), then the verifier row, then the POST.
    this.tables.touchConsumer(row.consumerId);
    const consumer = this.tables.consumer(row.consumerId)!;
    const verifier = this.tables.createVerifierToken(row.consumerId);
    const callback = await postToConsumer(
      row.endpoint,
      {
        oauth_consumer_key: consumer.key,
        oauth_consumer_secret: consumer.secret,
        store_base_url: this.o.storeBaseUrl(),
        oauth_verifier: verifier.verifier,
      },
      this.o.callback,
    );
    return {
      popupUrl: callback.ok ? popupUrl(row.identityLinkUrl, consumer.key, this.o.successCallbackUrl()) : null,
      callback,
    };
  }

  /** TokensDialog + OauthService::createAccessToken: no third party, Magento issues the tokens at once. */
  private mintTokens(row: IntegrationRow, clearExisting: boolean): ActivationResult {
    let existing = this.tables.firstToken(row.consumerId);
    if (existing && clearExisting) {
      this.tables.deleteToken(existing);
      existing = undefined;
    }
    if (!existing) {
      this.tables.createVerifierToken(row.consumerId);
      const first = this.tables.firstToken(row.consumerId)!;
      if (first.type !== 'verifier') {
        throw new AdminError(500, 'token_rows', 'Cannot create request token because consumer token is not a verifier token');
      }
      this.tables.convertToAccess(this.tables.convertToRequest(first, null));
      this.tables.setIntegrationStatus(row.id, 'active');
    }
    const consumer = this.tables.consumer(row.consumerId)!;
    const access = this.tables.firstToken(row.consumerId);
    return {
      popupUrl: null,
      callback: null,
      tokens: {
        consumerKey: consumer.key,
        consumerSecret: consumer.secret,
        accessToken: access?.type === 'access' ? access.token : '',
        accessTokenSecret: access?.type === 'access' ? access.secret : '',
      },
    };
  }

  private require(id: number): IntegrationRow {
    const row = this.tables.integration(id);
    if (!row) throw new AdminError(404, 'not_found', `No integration with ID ${id}.`);
    return row;
  }

  private view(id: number): IntegrationView {
    const row = this.require(id);
    const consumer = this.tables.consumer(row.consumerId)!;
    const access = this.tables.tokensOf(row.consumerId).find((t) => t.type === 'access');
    return {
      id: row.id,
      name: row.name,
      email: row.email,
      callbackUrl: row.endpoint,
      identityLinkUrl: row.identityLinkUrl,
      status: row.status,
      consumerKey: consumer.key,
      consumerSecret: consumer.secret,
      resources: row.resources,
      verifier: row.verifier,
      effectiveVerifier: row.verifier ?? this.o.storeVerifier?.() ?? 'laminas',
      details: access
        ? { consumerKey: consumer.key, consumerSecret: consumer.secret, accessToken: access.token, accessTokenSecret: access.secret }
        : null,
      consumerUpdatedAt: consumer.updatedAt.toISOString(),
      createdAt: row.createdAt.toISOString(),
      tokens: this.tables.tokensOf(row.consumerId).map((t) => ({
        id: t.id,
        type: t.type,
        token: t.token,
        secret: t.secret,
        verifier: t.verifier,
        createdAt: t.createdAt.toISOString(),
      })),
    };
  }
}
