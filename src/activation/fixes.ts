// What a merchant should do when an activation cannot finish, in the Magento admin's own words.
import type { Fix } from '../storage/types.js';

const INTEGRATIONS = 'In the Magento admin, open System > Extensions > Integrations';

export const FIX_TEXT: Record<Fix, string> = {
  activate_again: `${INTEGRATIONS} and click Activate on this integration again.`,
  reauthorize: `${INTEGRATIONS} and click Reauthorize on this integration.`,
  recreate_integration:
    `Magento still holds a half-finished activation for this integration that cannot be completed. ${INTEGRATIONS}, ` +
    'delete this integration, create it again with the same Callback URL and Identity Link URL, and click Activate. ' +
    '(Alternatively wait two hours, until Magento has cleaned up the old token, and click Activate again.)',
  check_store:
    `We could not reach the store. Check that it is online and reachable from the internet over HTTPS, then ${INTEGRATIONS[0]!.toLowerCase()}${INTEGRATIONS.slice(1)} and click Activate again.`,
  contact_support: 'This looks like a problem on our side. Contact support and mention the store URL.',
};

export function fixText(fix: Fix | null): string | null {
  return fix ? FIX_TEXT[fix] : null;
}
