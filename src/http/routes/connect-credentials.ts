// Connecting a store with the integration's four pasted credentials (a store that cannot reach our Callback URL;
// src/activation/credentials.ts owns the rules): the account page's "Connect with credentials" form
// (views/partials/connect-credentials.njk; POST-redirect-GET, a refusal re-renders the form with the reason and never
// echoes a secret back) and the operator API's `POST /api/accounts/:id/stores`.
import Router from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { CredentialsError, PASTED_FIELDS, type PastedField } from '../../activation/service.js';
import { ConnectStoreBody } from '../api-schemas.js';
import type { HttpServices } from '../context.js';
import { csrfToken } from '../cookies.js';
import { statusOf } from '../error-status.js';
import type { FlashMessages } from '../flash.js';
import { requireKey, requireOperator } from '../operator-auth.js';
import { sendPage } from '../pages.js';
import type { SessionState } from '../state.js';
import { checkCsrf } from '../steps/check-csrf.js';
import { field, readForm } from '../steps/read-form.js';
import { requireSession } from '../steps/require-session.js';
import { jsonBody } from './operator-http.js';

export const CONNECT_CREDENTIALS_PATH = '/account/stores/credentials';
const ACCOUNT_PATH = '/account';

/** Fields a refused form shows again: the store URL and the consumer key are no secrets (the store list shows both). */
const ECHOED: readonly PastedField[] = ['storeBaseUrl', 'consumerKey'];

/** Both routers (the API's before apiRoutes' catch-all: app.ts registers them first). */
export function connectCredentialsRoutes(services: HttpServices, { flash }: { flash: FlashMessages }) {
  return [apiRouter(services), pageRouter(services, flash)] as const;
}

/** The store as GET /api/stores/:id shows it. */
async function storeAsShown(s: HttpServices, accountId: string, storeId: string) {
  const store = await s.stores.getStore(accountId, storeId);
  return { ...store, availability: s.availability.describe(store.consumerKey), storeViews: await s.storeViews.of(accountId, store.id) };
}

function apiRouter(s: HttpServices): Router {
  const router = new Router({ prefix: '/api/accounts' });
  // Operator keys only, like every /api/accounts route (product.md): an account key gets 403 operator_only.
  router.post('/:id/stores', requireKey(s), requireOperator, async (ctx) => {
    const account = await s.operators.accounts.get(ctx.params.id!);
    const body = await jsonBody(ctx, ConnectStoreBody);
    const { binding, reconnected } = await s.activation.connectWithCredentials(account.id, body);
    s.logger.info({ accountId: account.id, bindingId: binding.id, reconnected, operatorKeyId: ctx.state.operator.id }, 'store connected with credentials by an operator');
    // 201 for a new store; 200 when the account's store took its new access token (the same store id).
    ctx.status = reconnected ? 200 : 201;
    ctx.set('Location', `/api/stores/${binding.id}`);
    ctx.body = await storeAsShown(s, account.id, binding.id);
  });
  return router;
}

function pageRouter(s: HttpServices, flash: FlashMessages): Router<SessionState> {
  const { config, render, csrfKey, accounts, activation } = s;
  const router = new Router<SessionState>();
  const form = readForm(config.limits.callbackBodyBytes);
  const csrf = checkCsrf(csrfKey);
  const session = requireSession(accounts);

  function showForm(ctx: ParameterizedContext<SessionState>, data: Record<string, unknown> = {}, status = 200): void {
    sendPage(ctx, render, 'connect-credentials.njk', { title: 'Connect with credentials', csrf: csrfToken(ctx, config, csrfKey), ...data }, status);
  }

  router.get(CONNECT_CREDENTIALS_PATH, session, (ctx) => showForm(ctx));

  router.post(CONNECT_CREDENTIALS_PATH, form, csrf, session, async (ctx) => {
    const input = Object.fromEntries((Object.keys(PASTED_FIELDS) as PastedField[]).map((name) => [name, field(ctx.state.form, name)]));
    try {
      const { binding, reconnected } = await activation.connectWithCredentials(ctx.state.account.id, input);
      const how = reconnected ? 'connected again with its new access token' : 'connected with its credentials';
      flash.set(ctx, { notice: `${binding.storeBaseUrl} is ${how} (signing profile ${binding.signingProfile}).` });
      ctx.status = 303;
      ctx.redirect(ACCOUNT_PATH);
    } catch (err) {
      if (!(err instanceof CredentialsError)) throw err;
      const pasted = Object.fromEntries(ECHOED.map((name) => [name, typeof input[name] === 'string' ? input[name].trim() : '']));
      showForm(ctx, { pasteError: { code: err.code, message: err.message, fix: err.fix, field: err.field ?? null }, pasted }, statusOf(err.code));
    }
  });
  return router;
}
