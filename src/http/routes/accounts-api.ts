// Operator routes for accounts: POST /api/accounts, GET /api/accounts[?externalId=], GET /api/accounts/:id,
// POST /api/accounts/:id/api-keys. Operator keys only (an account key gets 403 operator_only).
import Router from '@koa/router';
import { activationUrls } from '../../operators/activation-urls.js';
import type { Account } from '../../storage/types.js';
import type { HttpServices } from '../context.js';
import { requireKey, requireOperator } from '../operator-auth.js';
import { CreateAccountBody, CreateApiKeyBody, ListAccountsQuery } from '../api-schemas.js';
import { jsonBody, operatorErrors, parseWith, queryObject } from './operator-http.js';


export function accountView(a: Account, publicUrl: string) {
  return { id: a.id, email: a.email, externalId: a.externalId, createdAt: a.createdAt.toISOString(), ...activationUrls(publicUrl, a) };
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
    ctx.body = accountView(account, publicUrl());
  });

  router.get('/', ...guard, async (ctx) => {
    const query = parseWith(ListAccountsQuery, queryObject(ctx), 'query');
    const accounts = await s.operators.accounts.find({ externalId: query.externalId }, query.limit ?? 100);
    ctx.body = { accounts: accounts.map((a) => accountView(a, publicUrl())) };
  });

  router.get('/:id', ...guard, async (ctx) => {
    ctx.body = accountView(await s.operators.accounts.get(ctx.params.id!), publicUrl());
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
