// Operator routes for accounts: POST /api/accounts, GET /api/accounts[?externalId=], GET /api/accounts/:id,
// POST /api/accounts/:id/api-keys. Operator keys only (an account key gets 403 operator_only).
import Router from '@koa/router';
import { z } from 'zod';
import { activationUrls } from '../../operators/activation-urls.js';
import type { Account } from '../../storage/types.js';
import type { HttpServices } from '../context.js';
import { requireKey, requireOperator } from '../operator-auth.js';
import { jsonBody, operatorErrors, parseWith, queryObject } from './operator-http.js';

// Printable, no spaces at either end: an id a CRM's database hands out.
const ExternalId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$/u, 'must be 1 to 200 printable characters, without spaces at either end');

export const CreateAccountBody = z.object({ email: z.email().max(254), externalId: ExternalId.nullish() }).strict();
export const ListAccountsQuery = z.object({ externalId: ExternalId.optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }).strict();
export const CreateApiKeyBody = z.object({ name: z.string().trim().min(1).max(100) }).strict();

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
