// POST /magento/callback: Magento's unsigned callback. Read the form, check its four fields, record it, answer at
// once; the request token is fetched after the answer is on its way. Errors answer in the API's JSON shape.
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { parseCallback } from '../../activation/callback.js';
import type { ActivationService } from '../../activation/service.js';
import type { Logger } from '../../log.js';
import type { HttpServices } from '../context.js';
import type { CallbackState } from '../state.js';
import { readForm } from '../steps/read-form.js';

function validateCallback(allowPrivate: boolean): Middleware<CallbackState> {
  return async function validateCallback(ctx, next) {
    ctx.state.callback = parseCallback(ctx.state.form, { allowPrivate });
    await next();
  };
}

function recordCallback(activation: ActivationService): Middleware<CallbackState> {
  return async function recordCallback(ctx, next) {
    ctx.state.recorded = await activation.receiveCallback(ctx.state.callback);
    await next();
  };
}

function acknowledge(activation: ActivationService, logger: Logger): Middleware<CallbackState> {
  return function acknowledge(ctx) {
    const { binding, fetch } = ctx.state.recorded;
    logger.info(
      { requestId: ctx.state.requestId, bindingId: binding.id, consumerKey: binding.consumerKey, storeBaseUrl: binding.storeBaseUrl },
      'callback accepted',
    );
    ctx.status = 200;
    ctx.body = { status: 'accepted' };
    // Magento gives up after 5 s and the request token has its own window: fetch it once the answer is on its way.
    if (fetch) ctx.res.once('finish', () => activation.fetchRequestTokenSoon(binding.id));
  };
}

export function magentoCallbackRoutes({ config, logger, activation }: HttpServices): Router<CallbackState> {
  const router = new Router<CallbackState>();
  router.post(
    '/magento/callback',
    readForm(config.limits.callbackBodyBytes),
    validateCallback(config.allowPrivateStoreUrls),
    recordCallback(activation),
    acknowledge(activation, logger),
  );
  return router;
}
