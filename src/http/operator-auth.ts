// Bearer authentication for the API with either kind of key: an account's API key (mck_..., sees its own stores) or
// an operator key (mco_..., acts for every account, plus the operator routes). An account key on an operator route
// is a 403 operator_only.
import type { Context, Next } from 'koa';
import { isOperatorKey } from '../operators/keys.js';
import type { ApiKeyCache, AuthenticatedKey } from './auth.js';
import type { HttpServices } from './context.js';
import { OperatorError } from '../webhooks/errors.js';
import { HttpError } from './errors.js';

const unauthorized = (message: string) =>
  new HttpError('unauthorized', message, { headers: { 'WWW-Authenticate': 'Bearer realm="magento-connector"' } });

/** No account owns this value: a store lookup for it is always "not found". */
const NO_ACCOUNT = '\u0000operator:no-account';

export interface RequireKeyOptions {
  /**
   * Store routes (`/stores/:id...`): an operator acts as the store's account, so the account-scoped code after this
   * step serves it unchanged. A store bound to no account is "not found" for operators too, as for account keys.
   */
  storeOwner?: boolean;
  /**
   * The route reads the store through the gateway's cache next (the proxy): when an account key is not cached, that
   * read starts beside the key's look-up. A wrong key then costs a read by primary key as well as the key's.
   */
  prefetchStore?: boolean;
}

export function requireKey(s: Pick<HttpServices, 'operators' | 'stores'> & { keys: ApiKeyCache }, options: RequireKeyOptions = {}) {
  return async function requireKey(ctx: Context, next: Next): Promise<void> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'));
    if (!match) throw unauthorized('Send your API key as "Authorization: Bearer <key>".');
    const value = match[1]!;
    if (isOperatorKey(value)) {
      const operator = await s.operators.keyCache.authenticate(value);
      if (!operator) throw unauthorized('This operator key is not valid (wrong, or revoked).');
      ctx.state.operator = operator;
      if (options.storeOwner && ctx.params?.id) {
        ctx.state.accountId = (await s.stores.ownerOf(String(ctx.params.id))) ?? NO_ACCOUNT;
      }
    } else {
      let key: AuthenticatedKey | null | undefined = s.keys.cached(value);
      if (!key) {
        if (options.prefetchStore && ctx.params?.id) s.stores.prefetch(String(ctx.params.id));
        key = await s.keys.authenticate(value);
      }
      if (!key) throw unauthorized('This API key is not valid (wrong, or revoked).');
      ctx.state.apiKey = key;
      ctx.state.accountId = key.accountId;
    }
    await next();
  };
}

/** After requireKey: only operator keys pass. */
export async function requireOperator(ctx: Context, next: Next): Promise<void> {
  if (!ctx.state.operator) {
    throw new OperatorError('operator_only', 'This route needs an operator key (mco_...): create one with npm run cli -- operator-keys create --name N.');
  }
  await next();
}
