// Operator routes for accounts: POST /api/accounts, GET /api/accounts[?externalId=|?limit=&after=], GET /api/accounts/:id,
// POST /api/accounts/:id/api-keys, POST /api/accounts/:id/activation-urls/rotate (issue 13). Operator keys only (an
// account key gets 403 operator_only).
import Router from '@koa/router';
import { activationUrls, activationUrlsOfPage, type ActivationUrlSource } from '../../operators/activation-urls.js';
import type { Account } from '../../storage/types.js';
import type { HttpServices } from '../context.js';
import { requireKey, requireOperator } from '../operator-auth.js';
import { CreateAccountBody, CreateApiKeyBody, DEFAULT_PAGE_LIMIT, ListAccountsQuery } from '../api-schemas.js';
import { decodeCursor, encodeCursor, jsonBody, operatorErrors, parseWith, queryObject } from './operator-http.js';


const accountFields = (a: Account) => ({ id: a.id, email: a.email, externalId: a.externalId, createdAt: a.createdAt.toISOString() });

/** The account as the API shows it, with its own two activation URLs (issue 13). */
export async function accountView(a: Account, publicUrl: string, urls: ActivationUrlSource) {
  return { ...accountFields(a), ...(await activationUrls(urls, publicUrl, a)) };
}

export function accountsApiRoutes(s: HttpServices): Router {
  const router = new Router({ prefix: '/api/accounts' });
  const guard = [requireKey(s), requireOperator, operatorErrors] as const;
  const publicUrl = () => s.config.publicUrl;

  router.post('/', ...guard, async (ctx) => {
    const body = await jsonBody(ctx, CreateAccountBody);
    const account = await s.operators.accounts.create({ email: body.email, externalId: body.externalId ?? null });
    s.logger.info({ accountId: account.id, operatorKeyId: ctx.state.operator.id }, 'account created by an operator');
    ctx.status = 201;
    ctx.body = await accountView(account, publicUrl(), s.activation);
  });

  router.get('/', ...guard, async (ctx) => {
    const query = parseWith(ListAccountsQuery, queryObject(ctx), 'query');
    const page = await s.operators.accounts.find({ externalId: query.externalId }, { limit: query.limit ?? DEFAULT_PAGE_LIMIT, after: decodeCursor(query.after) });
    const urls = await activationUrlsOfPage(s.activation, publicUrl(), page.items);
    ctx.body = { accounts: page.items.map((a, i) => ({ ...accountFields(a), ...urls[i]! })), next: encodeCursor(page.next) };
  });

  router.get('/:id', ...guard, async (ctx) => {
    ctx.body = await accountView(await s.operators.accounts.get(ctx.params.id!), publicUrl(), s.activation);
  });

  // New activation URLs for the account: the old ones stop accepting new activations at once; connected stores
  // keep working (a later Reauthorize needs the new URLs saved in the integration).
  router.post('/:id/activation-urls/rotate', ...guard, async (ctx) => {
    const account = await s.operators.accounts.get(ctx.params.id!);
    const urls = await s.activation.rotateActivationUrls(account.id, publicUrl());
    s.logger.info({ accountId: account.id, operatorKeyId: ctx.state.operator.id }, 'activation URLs replaced by an operator');
    ctx.body = { id: account.id, email: account.email, externalId: account.externalId, createdAt: account.createdAt.toISOString(), ...urls };
  });

  router.post('/:id/api-keys', ...guard, async (ctx) => {
    const body = await jsonBody(ctx, CreateApiKeyBody);
    const { key, record } = await s.operators.accounts.createApiKey(ctx.params.id!, body.name);
    s.logger.info({ accountId: record.accountId, apiKeyId: record.id, operatorKeyId: ctx.state.operator.id }, 'API key created by an operator');
    ctx.status = 201;
    ctx.body = { id: record.id, name: record.name, key };
  });

  return router;
}
