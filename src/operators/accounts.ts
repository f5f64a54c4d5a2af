// Accounts as an operator manages them: created with the CRM's own tenant id (externalId), looked up by it, and
// given API keys. An operator-made account has no password ("" never verifies, src/accounts/passwords.ts).
import { randomUUID } from 'node:crypto';
import type { Accounts } from '../accounts/accounts.js';
import { normaliseEmail } from '../accounts/accounts.js';
import type { Account, ApiKey, Page, PageRequest, Storage } from '../storage/types.js';
import { OperatorError } from '../webhooks/errors.js';

export class OperatorAccounts {
  constructor(private readonly o: { storage: Storage; accounts: Accounts }) {}

  async create(input: { email: string; externalId?: string | null }): Promise<Account> {
    const email = normaliseEmail(input.email);
    const externalId = input.externalId ?? null;
    const created = await this.o.storage.operatorAccounts.create({ id: randomUUID(), email, passwordHash: '', externalId });
    if (created === 'email_taken') throw new OperatorError('email_taken', `An account with the email ${email} already exists.`, 'email');
    if (created === 'external_id_taken') {
      throw new OperatorError('external_id_taken', `An account with the externalId ${JSON.stringify(externalId)} already exists: GET /api/accounts?externalId=... finds it.`, 'externalId');
    }
    return created;
  }

  async get(id: string): Promise<Account> {
    const account = await this.o.storage.accounts.byId(id);
    if (!account) throw new OperatorError('account_not_found', `No account with id ${id.slice(0, 100)}.`);
    return account;
  }

  /** One account by the CRM's tenant id, or every account a page at a time in creation order. */
  async find(filter: { externalId?: string }, page: PageRequest): Promise<Page<Account>> {
    if (filter.externalId !== undefined) {
      const account = await this.o.storage.operatorAccounts.byExternalId(filter.externalId);
      return { items: account ? [account] : [], next: null };
    }
    return this.o.storage.operatorAccounts.list(page);
  }

  async createApiKey(accountId: string, name: string): Promise<{ key: string; record: ApiKey }> {
    await this.get(accountId);
    return this.o.accounts.createApiKey(accountId, name);
  }
}
