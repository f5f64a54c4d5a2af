// GET /api/stores with an operator key: every store, or one account's (?accountId=), a page at a time.
import type { Page } from '../../storage/types.js';
import type { StoreView } from '../../store-api/store-view.js';
import { DEFAULT_PAGE_LIMIT, OperatorStoresQuery } from '../api-schemas.js';
import type { HttpServices } from '../context.js';
import { decodeCursor } from './operator-http.js';

export { OperatorStoresQuery };

export function listForOperator(s: Pick<HttpServices, 'stores'>, query: typeof OperatorStoresQuery._output): Promise<Page<StoreView>> {
  return s.stores.pageStores({ limit: query.limit ?? DEFAULT_PAGE_LIMIT, after: decodeCursor(query.after), accountId: query.accountId });
}
