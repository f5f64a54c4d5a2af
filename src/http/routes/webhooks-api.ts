// Operator routes for lifecycle webhooks: POST/GET /api/webhooks, DELETE /api/webhooks/:id,
// GET /api/webhooks/:id/deliveries, POST /api/webhooks/:id/deliveries/:deliveryId/retry.
import Router from '@koa/router';
import { deliveryView, subscriptionView } from '../../webhooks/webhooks.js';
import type { HttpServices } from '../context.js';
import { requireKey, requireOperator } from '../operator-auth.js';
import { CreateWebhookBody, ListDeliveriesQuery } from '../api-schemas.js';
import { jsonBody, operatorErrors, parseWith, queryObject } from './operator-http.js';


export function webhooksApiRoutes(s: HttpServices): Router {
  const router = new Router({ prefix: '/api/webhooks' });
  const guard = [requireKey(s), requireOperator, operatorErrors] as const;
  const hooks = s.operators.webhooks;

  router.post('/', ...guard, async (ctx) => {
    const body = await jsonBody(ctx, CreateWebhookBody);
    const { subscription, secret } = await hooks.create({ url: body.url, events: body.events ?? null });
    s.logger.info({ webhookId: subscription.id, operatorKeyId: ctx.state.operator.id }, 'webhook created');
    ctx.status = 201;
    ctx.body = { ...subscriptionView(subscription), secret };
  });

  router.get('/', ...guard, async (ctx) => {
    ctx.body = { webhooks: (await hooks.list()).map(subscriptionView) };
  });

  router.delete('/:id', ...guard, async (ctx) => {
    await hooks.delete(ctx.params.id!);
    s.logger.info({ webhookId: ctx.params.id, operatorKeyId: ctx.state.operator.id }, 'webhook deleted');
    ctx.status = 204;
  });

  router.get('/:id/deliveries', ...guard, async (ctx) => {
    const query = parseWith(ListDeliveriesQuery, queryObject(ctx), 'query');
    const deliveries = await hooks.deliveries(ctx.params.id!, query.limit ?? 100);
    ctx.body = { deliveries: deliveries.map(deliveryView) };
  });

  router.post('/:id/deliveries/:deliveryId/retry', ...guard, async (ctx) => {
    const delivery = await hooks.retry(ctx.params.id!, ctx.params.deliveryId!);
    ctx.status = 202;
    ctx.body = deliveryView(delivery);
  });

  return router;
}
