// Magento-facing routes: the Callback URL and the Identity Link popup. Each route is a chain of small named steps;
// the protocol and the activation logic live in src/activation and src/protocol.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { PASSWORD_MIN } from '../../accounts/passwords.js';
import { CallbackInputError, normaliseConsumerKey } from '../../activation/callback.js';
import { ActivationError } from '../../activation/service.js';
import type { Binding } from '../../storage/types.js';
import type { HttpServices } from '../context.js';
import { csrfToken, csrfValid } from '../cookies.js';
import { ConnectorError, fromHttpish } from '../errors.js';
import { field, readForm, type FormFields } from '../form.js';
import { signInOrUp, type FormKind } from '../sign-in.js';

const MAX_URL = 2048;

/** A page-level failure in the popup: rendered as a page, never as JSON or a stack trace. */
class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface IdentityParams {
  consumerKey: string;
  successCallBack: string | null;
}

interface IdentityState {
  form: FormFields;
  identity: IdentityParams;
  binding: Binding | null;
  accountId: string;
  email: string;
}

export function magentoRoutes(s: HttpServices): Router {
  const router = new Router();

  // ---- POST /magento/callback --------------------------------------------------------------------------------

  async function validateCallback(ctx: Context, next: Next): Promise<void> {
    try {
      ctx.state.callback = await s.activation.checkCallback(ctx.state.form);
    } catch (err) {
      if (err instanceof CallbackInputError) throw new ConnectorError(400, 'invalid_callback', err.message);
      throw err;
    }
    await next();
  }

  async function recordCallback(ctx: Context, next: Next): Promise<void> {
    try {
      ctx.state.recorded = await s.activation.receiveCallback(ctx.state.callback);
    } catch (err) {
      if (err instanceof ActivationError) throw new ConnectorError(409, err.code, err.message);
      throw err;
    }
    await next();
  }

  function acknowledge(ctx: Context): void {
    const { binding, needsRequestToken } = ctx.state.recorded as { binding: Binding; needsRequestToken: boolean };
    s.logger.info(
      { requestId: ctx.state.requestId, bindingId: binding.id, consumerKey: binding.consumerKey, storeBaseUrl: binding.storeBaseUrl },
      'callback accepted',
    );
    ctx.status = 200;
    ctx.body = { status: 'accepted' };
    // Magento gives up after 5 s and the request token has its own window: fetch it once the answer is on its way.
    if (needsRequestToken) ctx.res.once('finish', () => s.activation.queueRequestTokenFetch(binding.id));
  }

  router.post(
    '/magento/callback',
    readForm(s.config.limits.callbackBodyBytes),
    validateCallback,
    recordCallback,
    acknowledge,
  );

  // ---- the popup ----------------------------------------------------------------------------------------------

  function identityParams(source: Record<string, unknown>): IdentityParams {
    const consumerKey = normaliseConsumerKey(source.oauth_consumer_key);
    if (!consumerKey) {
      throw new PageError(
        400,
        'This link is incomplete',
        'This page must be opened from the Magento admin: the link is missing the integration\'s consumer key. ' +
          'In the Magento admin, open System > Extensions > Integrations and click Activate.',
      );
    }
    const back = source.success_call_back;
    if (back === undefined || back === '') return { consumerKey, successCallBack: null };
    if (typeof back !== 'string' || back.length > MAX_URL || !/^https?:\/\//i.test(back) || !URL.canParse(back)) {
      throw new PageError(400, 'This link is garbled', 'The link\'s success_call_back is not a valid web address. Open this page from the Magento admin again.');
    }
    return { consumerKey, successCallBack: back };
  }

  async function pageErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      if (err instanceof PageError) return renderMessage(ctx, err.status, err.title, err.message, err.extra);
      if (err instanceof ActivationError) return renderActivationError(ctx, err);
      const known = fromHttpish(err);
      if (known) return renderMessage(ctx, known.status, 'Something is not right', known.message);
      throw err;
    }
  }

  function renderMessage(ctx: Context, status: number, title: string, message: string, extra: Record<string, unknown> = {}) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = s.render('message.njk', { title, message, requestId: ctx.state.requestId, ...extra });
  }

  function renderActivationError(ctx: Context, err: ActivationError): void {
    const status = {
      unknown_activation: 404,
      callback_refused: 409,
      owned_by_other_account: 409,
      still_connecting: 504,
      callback_conflict: 409,
      activation_failed: 409,
    }[err.code];
    const title = {
      unknown_activation: 'We do not know this activation yet',
      callback_refused: 'Magento\'s callback was refused',
      owned_by_other_account: 'This store belongs to another account',
      still_connecting: 'Still connecting',
      callback_conflict: 'This activation was refused',
      activation_failed: 'The store could not be connected',
    }[err.code];
    renderMessage(ctx, status, title, err.message, {
      fix: err.fix,
      storeUrl: err.binding?.storeBaseUrl,
    });
  }

  function renderIdentity(ctx: Context, status: number, st: { identity: IdentityParams; binding: Binding }, extra: Record<string, unknown> = {}) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = s.render('identity.njk', {
      title: 'Connect your store',
      storeUrl: st.binding.storeBaseUrl,
      consumerKey: st.identity.consumerKey,
      successCallBack: st.identity.successCallBack ?? '',
      csrf: csrfToken(ctx, s.config, s.csrfKey),
      passwordMin: PASSWORD_MIN,
      ...extra,
    });
  }

  /** The binding a popup form is for (ActivationError when there is none to continue with). */
  async function loadBinding(ctx: Context, next: Next): Promise<void> {
    const st = ctx.state as IdentityState;
    st.binding = await s.activation.knownBinding(st.identity.consumerKey);
    await next();
  }

  async function readQuery(ctx: Context, next: Next): Promise<void> {
    (ctx.state as IdentityState).identity = identityParams(ctx.query);
    await next();
  }

  /** The sign-in forms, or (ActivationError) why this activation cannot be finished and what to do. */
  async function showIdentity(ctx: Context): Promise<void> {
    const st = ctx.state as IdentityState & { binding: Binding };
    st.binding = await s.activation.identityPage(st.identity.consumerKey);
    renderIdentity(ctx, 200, st);
  }

  router.get('/magento/identity', pageErrors, readQuery, showIdentity);

  // ---- POST /magento/identity/login and /signup ---------------------------------------------------------------

  async function readIdentityForm(ctx: Context, next: Next): Promise<void> {
    const st = ctx.state as IdentityState;
    st.identity = identityParams(st.form);
    await next();
  }

  async function checkCsrf(ctx: Context, next: Next): Promise<void> {
    if (!csrfValid(ctx, s.csrfKey, field(ctx.state.form, 'csrf'))) {
      throw new PageError(
        403,
        'Please try again',
        'This form expired or was not sent from this page. Reload the page and submit it again.',
      );
    }
    await next();
  }

  /** Signs in or up and starts a session; account errors re-render the form with the message, keeping the email. */
  function authenticate(kind: FormKind) {
    return async function authenticate(ctx: Context, next: Next): Promise<void> {
      const st = ctx.state as IdentityState & { binding: Binding };
      const result = await signInOrUp(s, ctx, kind);
      if (!result.ok) return renderIdentity(ctx, result.status, st, { error: result.error, email: result.email, form: kind });
      st.accountId = result.account.id;
      st.email = result.account.email;
      await next();
    };
  }

  async function completeActivation(ctx: Context, next: Next): Promise<void> {
    const st = ctx.state as IdentityState & { binding: Binding };
    st.binding = await s.activation.completeForAccount(st.identity.consumerKey, st.accountId);
    await next();
  }

  /** Back to Magento (which closes the popup) only when success_call_back is on the store's own host. */
  function finish(ctx: Context): void {
    const st = ctx.state as IdentityState & { binding: Binding };
    const back = st.identity.successCallBack;
    if (back && new URL(back).host === new URL(st.binding.storeBaseUrl).host) {
      ctx.redirect(back);
      return;
    }
    renderMessage(ctx, 200, 'Connected', `Your store is connected to ${st.email}.`, {
      ok: true,
      storeUrl: st.binding.storeBaseUrl,
      closeHint: true,
    });
  }

  const form = readForm(s.config.limits.callbackBodyBytes);
  router.post('/magento/identity/login', pageErrors, form, checkCsrf, readIdentityForm, loadBinding, authenticate('login'), completeActivation, finish);
  router.post('/magento/identity/signup', pageErrors, form, checkCsrf, readIdentityForm, loadBinding, authenticate('signup'), completeActivation, finish);

  return router;
}
