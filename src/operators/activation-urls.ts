// The two URLs a merchant pastes into the Magento admin for an account. For now they are the shared,
// account-independent URLs; per-account tokens (`/magento/callback/<token>`, product surface) replace them here,
// and only here, when they arrive.
import type { Account } from '../storage/types.js';

export function activationUrls(publicUrl: string, _account: Pick<Account, 'id'>): { callbackUrl: string; identityLinkUrl: string } {
  const base = publicUrl.replace(/\/+$/, '');
  return { callbackUrl: `${base}/magento/callback`, identityLinkUrl: `${base}/magento/identity` };
}
