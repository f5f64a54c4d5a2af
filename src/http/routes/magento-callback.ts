// POST /magento/callback/<token>: Magento's unsigned callback through an account's own Callback URL (issue 13), and
// POST /magento/callback, the shared one, only with OPEN_SIGNUP_ACTIVATION=true. Read the form, count it against the
// rate limits, check its four fields, record it, answer at once; the request token is fetched after the answer is
// on its way. Errors answer in the API's JSON shape.
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { consumerKeyHash } from '../../activation/callback.js';
import { ActivationError, type ActivationService } from '../../activation/service.js';
import type { Logger } from '../../log.js';
import type { HttpServices } from '../context.js';
import type { CallbackState } from '../state.js';
import { SHARED_URLS_OFF, UNKNOWN_URL_FIX } from '../steps/activation-scope.js';
import { readForm } from '../steps/read-form.js';

type ViaState = CallbackState & { via: { accountId: string | null } };


/** The account whose URL this is (404 for an unknown or rotated token), counted against the rate limits. */
function resolveAccount(activation: ActivationService, shared: boolean): Middleware<ViaState> {
  return async function resolveAccount(ctx, next) {
    // The address is counted whatever the token (guessing tokens is limited like flooding one), beside the token's
    // look-up; an address over its limit is refused before anything else.
    const [, accountId] = await Promise.all([
      activation.countCallback({ address: ctx.ip, accountId: null }),
      shared ? null : activation.accountForToken(ctx.params.token ?? ''),
    ]);
    if (!shared) {
      if (!accountId) {
        throw new ActivationError('unknown_activation_url', 'This Callback URL is not valid (it may have been replaced by a new one).', { fixText: UNKNOWN_URL_FIX });
      }
      await activation.countCallback({ address: null, accountId });
    }
    ctx.state.via = { accountId };
    await next();
  };
}

/** The four fields, checked; a refusal (invalid_callback) is logged and remembered for the popup by the service. */
function validateCallback(activation: ActivationService): Middleware<ViaState> {
  return async function validateCallback(ctx, next) {
    ctx.state.callback = await activation.checkCallback(ctx.state.form);
    await next();
  };
}

function recordCallback(activation: ActivationService): Middleware<ViaState> {
  return async function recordCallback(ctx, next) {
    ctx.state.recorded = await activation.receiveCallback(ctx.state.callback, ctx.state.via);
    await next();
  };
}

function acknowledge(activation: ActivationService, logger: Logger): Middleware<ViaState> {
  return function acknowledge(ctx) {
    const { binding, needsRequestToken } = ctx.state.recorded;
    // The consumer key is the only thing tying a popup to this activation: logged as a short hash, never in clear.
    logger.info(
      { requestId: ctx.state.requestId, bindingId: binding.id, accountId: binding.accountId, consumerKeyHash: consumerKeyHash(binding.consumerKey).slice(0, 12), storeBaseUrl: binding.storeBaseUrl },
      'callback accepted',
    );
    ctx.status = 200;
    ctx.body = { status: 'accepted' };
    // Magento gives up after 5 s and the request token has its own window: fetch it once the answer is on its way.
    if (needsRequestToken) ctx.res.once('finish', () => activation.queueRequestTokenFetch(binding));
  };
}

export function magentoCallbackRoutes({ config, logger, activation, operators }: HttpServices): Router<ViaState> {
  const router = new Router<ViaState>();
  // connector_callbacks_total by outcome (src/metrics/metrics.ts).
  const countOutcome: Middleware<ViaState> = async function countOutcome(ctx, next) {
    try {
      await next();
    } catch (err) {
      operators.metrics.callback('refused');
      throw err;
    }
    operators.metrics.callback(ctx.state.recorded?.isNew === false ? 'repeat' : 'accepted');
  };
  const sharedUrlsOn: Middleware<ViaState> = async function sharedUrlsOn(_ctx, next) {
    if (!config.openSignupActivation) throw new ActivationError('shared_activation_disabled', SHARED_URLS_OFF);
    await next();
  };
  const form = readForm(config.limits.callbackBodyBytes);
  // The form is read first (it is small, callbackBodyBytes at most): a refusal that left the body unread would close
  // the connection under a client that may be sending its next request on it.
  router.post(
    '/magento/callback/:token',
    countOutcome,
    form,
    resolveAccount(activation, false),
    validateCallback(activation),
    recordCallback(activation),
    acknowledge(activation, logger),
  );
  router.post(
    '/magento/callback',
    countOutcome,
    form,
    sharedUrlsOn,
    resolveAccount(activation, true),
    validateCallback(activation),
    recordCallback(activation),
    acknowledge(activation, logger),
  );
  return router;
}
