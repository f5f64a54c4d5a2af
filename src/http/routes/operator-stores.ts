// GET /api/stores with an operator key: every store, or one account's (?accountId=).
import { describeStore, type StoreView } from '../../store-api/store-view.js';
import type { HttpServices } from '../context.js';

export { OperatorStoresQuery } from '../api-schemas.js';

export async function listForOperator(s: Pick<HttpServices, 'storage'>, accountId: string | undefined): Promise<StoreView[]> {
  const bindings = accountId === undefined ? await s.storage.bindings.list() : await s.storage.bindings.listByAccount(accountId);
  return bindings.map(describeStore);
}
