// GET /api/stores with an operator key: every store, or one account's (?accountId=).
import { z } from 'zod';
import type { Binding } from '../../storage/types.js';
import type { HttpServices } from '../context.js';

export const OperatorStoresQuery = z.object({ accountId: z.string().min(1).max(200).optional() }).strict();

export function listForOperator(s: Pick<HttpServices, 'storage'>, accountId: string | undefined): Promise<Binding[]> {
  return accountId === undefined ? s.storage.bindings.list() : s.storage.bindings.listByAccount(accountId);
}
