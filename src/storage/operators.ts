// Persistence for the CRM's own systems (operators): their keys, and the account operations only they perform
// (accounts with the CRM's externalId). The Prisma implementation: prisma/operators.ts.
import type { Account, Page, PageRequest } from './types.js';

export interface OperatorKey {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface OperatorKeyRepository {
  create(key: Pick<OperatorKey, 'id' | 'name' | 'prefix' | 'hash'>): Promise<OperatorKey>;
  /** A key that is not revoked, by the hash of its value. */
  activeByHash(hash: string): Promise<OperatorKey | null>;
  list(): Promise<OperatorKey[]>;
  /** false when there is no such key or it was already revoked. */
  revoke(id: string, at: Date): Promise<boolean>;
  touch(id: string, at: Date): Promise<void>;
}

export type NewOperatorAccount = Pick<Account, 'id' | 'email' | 'passwordHash'> & { externalId: string | null };

export interface OperatorAccountRepository {
  /** The account, or which unique field is taken. */
  create(account: NewOperatorAccount): Promise<Account | 'email_taken' | 'external_id_taken'>;
  byExternalId(externalId: string): Promise<Account | null>;
  /** Accounts a page at a time, in creation order, on the (createdAt, id) index. */
  list(request: PageRequest): Promise<Page<Account>>;
}
