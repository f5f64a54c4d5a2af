// Which popup a request came through (issue 13): an account's own Identity Link URL, /magento/identity/<token>
// (an unknown or rotated token is a 404 page), or the shared /magento/identity (only with OPEN_SIGNUP_ACTIVATION).
// Also who is signed in in this browser: a member of the link's account is offered the one-click Connect.
import type { Middleware } from 'koa';
import type { Accounts } from '../../accounts/accounts.js';
import { ActivationError, type ActivationScope, type ActivationService } from '../../activation/service.js';
import type { Config } from '../../config.js';
import type { Account } from '../../storage/types.js';
import { SESSION_COOKIE } from '../cookies.js';
import { HttpError } from '../errors.js';
import type { BaseState } from '../state.js';

export const SHARED_URLS_OFF =
  'This connector does not take activations through its shared URLs. Use the Callback URL and Identity Link URL ' +
  'shown on your account page (each account has its own).';

export const UNKNOWN_URL_FIX =
  'Copy the Callback URL and Identity Link URL from your account page into the integration in the Magento admin, save, then click Activate.';

/** The path segments under /magento/identity/ that are the shared popup's forms, never a token. */
const FORM_NAMES = new Set(['login', 'signup', 'oidc']);

export interface ScopeState extends BaseState {
  scope: ActivationScope;
  /** The URL prefix the popup's forms post under: /magento/identity or /magento/identity/<token>. */
  base: string;
  /** The account signed in in this browser, if any. */
  viewer: Account | null;
}

type Deps = { config: Pick<Config, 'openSignupActivation'>; activation: ActivationService; accounts: Pick<Accounts, 'sessionAccount'> };

export function activationScope({ config, activation, accounts }: Deps, shared: boolean): Middleware<ScopeState> {
  return async function activationScope(ctx, next) {
    if (shared) {
      if (!config.openSignupActivation) throw new ActivationError('shared_activation_disabled', SHARED_URLS_OFF);
      ctx.state.scope = { accountId: null };
      ctx.state.base = '/magento/identity';
    } else {
      const token = ctx.params.token ?? '';
      // A GET of a shared form's address (/magento/identity/login...) is what it always was: a form's address.
      if (FORM_NAMES.has(token)) throw new HttpError('method_not_allowed', 'This address takes a form sent from the popup. Open the popup from the Magento admin.');
      const accountId = await activation.accountForToken(token);
      if (!accountId) {
        throw new ActivationError('unknown_activation_url', 'This Identity Link URL is not valid (it may have been replaced by a new one).', { fixText: UNKNOWN_URL_FIX });
      }
      ctx.state.scope = { accountId };
      ctx.state.base = `/magento/identity/${token}`;
    }
    ctx.state.viewer = await accounts.sessionAccount(ctx.cookies.get(SESSION_COOKIE));
    await next();
  };
}
