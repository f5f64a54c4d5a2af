// What a merchant should do when an activation cannot finish, in the Magento admin's own words. Magento shows
// Reauthorize only for an Active integration and Activate otherwise (docs/magento-protocol.md §4): a fix must name
// the button Magento shows in the binding's state (src/activation/transitions.ts decides which fix applies).
import type { CallbackRefusalReason, Fix } from '../storage/types.js';

const INTEGRATIONS = 'In the Magento admin, open System > Extensions > Integrations';
const integrations = `${INTEGRATIONS[0]!.toLowerCase()}${INTEGRATIONS.slice(1)}`;

export const FIX_TEXT: Record<Fix, string> = {
  activate_again: `${INTEGRATIONS} and click Activate on this integration again.`,
  reauthorize: `${INTEGRATIONS} and click Reauthorize on this integration.`,
  recreate_integration:
    `Magento still holds a half-finished activation for this integration that cannot be completed. ${INTEGRATIONS}, ` +
    'delete this integration, create it again with the same Callback URL and Identity Link URL, and click Activate. ' +
    '(Alternatively wait two hours, until Magento has cleaned up the old token, and click Activate again.)',
  check_store: `We could not reach the store. Check that it is online and reachable from the internet over HTTPS, then ${integrations} and click Activate again.`,
  contact_support: 'This looks like a problem on our side. Contact support and mention the store URL.',
  // A store connected with pasted credentials (src/activation/credentials.ts): Reauthorize on an integration without
  // URLs makes Magento mint a new access token and show it; pasting it reconnects this same store.
  paste_new_credentials:
    `${INTEGRATIONS}, click Reauthorize on this integration, then paste its new Access Token and Access Token Secret ` +
    '(with the same store URL, Consumer Key and Consumer Secret) into Connect with credentials on your account page.',
};

export function fixText(fix: Fix | null): string | null {
  return fix ? FIX_TEXT[fix] : null;
}

/** The fix for a callback we refused, by why it was refused. */
export const REFUSAL_FIX_TEXT: Record<CallbackRefusalReason, string> = {
  private_store_url:
    'This connector only accepts https stores with a public address. For a local test store, set ' +
    `ALLOW_PRIVATE_STORE_URLS=true on the connector; then ${integrations} and click Activate again.`,
  invalid_store_url:
    "Check the store's secure base URL (Stores > Configuration > General > Web > Base URLs (Secure)), then " +
    `${integrations} and click Activate again.`,
  invalid_field:
    `The callback did not look like the one Magento sends. Check that nothing between the store and us changes it, then ${integrations} and click Activate again.`,
  unexpected_field:
    `The callback did not look like the one Magento sends. Check that nothing between the store and us changes it, then ${integrations} and click Activate again.`,
};
