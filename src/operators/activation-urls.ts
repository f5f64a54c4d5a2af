// The two URLs a merchant pastes into the Magento admin for an account: its own Callback URL and Identity Link URL,
// each carrying the account's unguessable activation token (issue 13; src/activation/account-urls.ts keeps the
// token: created on first need, rotatable). The operator API (POST/GET /api/accounts) shows them through here.
import type { ActivationUrls } from '../activation/account-urls.js';
import type { Account } from '../storage/types.js';

/** What can tell an account's URLs: the activation service. */
export interface ActivationUrlSource {
  activationUrls(accountId: string, publicUrl: string): Promise<ActivationUrls>;
  activationUrlsOf(accountIds: readonly string[], publicUrl: string): Promise<ActivationUrls[]>;
}

export function activationUrls(source: ActivationUrlSource, publicUrl: string, account: Pick<Account, 'id'>): Promise<ActivationUrls> {
  return source.activationUrls(account.id, publicUrl);
}

/** The URLs of a page of accounts, in the page's order. */
export function activationUrlsOfPage(source: ActivationUrlSource, publicUrl: string, accounts: readonly Pick<Account, 'id'>[]): Promise<ActivationUrls[]> {
  return source.activationUrlsOf(accounts.map((a) => a.id), publicUrl);
}
