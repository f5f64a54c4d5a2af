// POST /magento/callback: Magento's unsigned callback. Read the form, check its four fields, record it, answer at
// once; the request token is fetched after the answer is on its way. Errors answer in the API's JSON shape.
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { consumerKeyHash } from '../../activation/callback.js';
import type { ActivationService } from '../../activation/service.js';
import type { Logger } from '../../log.js';
import type { HttpServices } from '../context.js';
import type { CallbackState } from '../state.js';
import { readForm } from '../steps/read-form.js';

/** The four fields, checked; a refusal (invalid_callback) is logged and remembered for the popup by the service. */
function validateCallback(activation: ActivationService): Middleware<CallbackState> {
  return async function validateCallback(ctx, next) {
    ctx.state.callback = await activation.checkCallback(ctx.state.form);
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
    const { binding, needsRequestToken } = ctx.state.recorded;
    // The consumer key is the only thing tying a popup to this activation: logged as a short hash, never in clear.
    logger.info(
      { requestId: ctx.state.requestId, bindingId: binding.id, consumerKeyHash: consumerKeyHash(binding.consumerKey).slice(0, 12), storeBaseUrl: binding.storeBaseUrl },
      'callback accepted',
    );
    ctx.status = 200;
    ctx.body = { status: 'accepted' };
    // Magento gives up after 5 s and the request token has its own window: fetch it once the answer is on its way.
    if (needsRequestToken) ctx.res.once('finish', () => activation.queueRequestTokenFetch(binding.id));
  };
}

export function magentoCallbackRoutes({ config, logger, activation, operators }: HttpServices): Router<CallbackState> {
  const router = new Router<CallbackState>();
  // connector_callbacks_total by outcome (src/metrics/metrics.ts).
  const countCallback: Middleware<CallbackState> = async function countCallback(ctx, next) {
    try {
      await next();
    } catch (err) {
      operators.metrics.callback('refused');
      throw err;
    }
    operators.metrics.callback(ctx.state.recorded?.isNew === false ? 'repeat' : 'accepted');
  };
  router.post(
    '/magento/callback',
    countCallback,
    readForm(config.limits.callbackBodyBytes),
    validateCallback(activation),
    recordCallback(activation),
    acknowledge(activation, logger),
  );
  return router;
}
