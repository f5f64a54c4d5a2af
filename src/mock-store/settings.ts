// The store settings a test may change while the mock runs (Stores > Configuration in Magento), plus the store
// views. One mutable object shared by the REST API, GraphQL, the admin and the knobs.
import type { VerifierName } from './verifiers.js';

export interface StoreView {
  id: number;
  code: string;
  name: string;
  website_id: number;
  store_group_id: number;
  is_active: number;
}

export interface StoreSettings {
  /** The verifier for integrations without their own. */
  verifier: VerifierName;
  /** oauth/consumer/enable_integration_as_bearer ("Allow OAuth Access Tokens to be used as standalone Bearer tokens"). */
  allowIntegrationBearer: boolean;
  /** webapi/validation/maximum_page_size (2.4.7+ input limits); null = no limit (older stores). */
  maxPageSize: number | null;
  /** What a page past the last one returns: the last page again (Magento's collection clamps) or no items. */
  pastLastPage: 'last' | 'empty';
  /** The body of GET {base}magento_version; null = the route answers 404 (module disabled). */
  magentoVersion: string | null;
  /** Store views besides the admin store (code `admin`, id 0), in id order. */
  storeViews: StoreView[];
  /**
   * webapi/webapisecurity/allow_insecure ("Allow Anonymous Guest Access"): Magento_WebapiSecurity's
   * AnonymousResourceSecurity then makes the catalog and store reads anonymous (routes marked anonymousWhenInsecure).
   */
  allowInsecure: boolean;
}

export const DEFAULT_MAGENTO_VERSION = 'Magento/2.4 (Community)';

const KNOWN_NAMES: Record<string, string> = { default: 'Default Store View', fr: 'French Store View', de: 'German Store View' };
const title = (code: string): string => KNOWN_NAMES[code] ?? `${code.charAt(0).toUpperCase()}${code.slice(1)} Store View`;

/** Views from codes: `default` is "Default Store View" (id 1), the others follow. */
export function storeViewsFromCodes(codes: string[]): StoreView[] {
  const ordered = codes.includes('default') ? ['default', ...codes.filter((c) => c !== 'default')] : codes;
  return ordered.map((code, i) => ({
    id: i + 1,
    code,
    name: title(code),
    website_id: 1,
    store_group_id: 1,
    is_active: 1,
  }));
}

/** The sample store: `default` and a French view `fr`. */
export const DEFAULT_STORE_CODES = ['default', 'fr'];

/** GET /V1/store/storeViews lists the admin store too. */
export const ADMIN_STORE_VIEW: StoreView = { id: 0, code: 'admin', name: 'Admin', website_id: 0, store_group_id: 0, is_active: 1 };
