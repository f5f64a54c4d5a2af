// How the identity pages answer each IdentityError (issue 14). One table; a merger may fold it into the HTTP
// layer's single status table.
import type { IdentityErrorCode } from '../../identity/errors.js';

export const IDENTITY_ERROR_STATUS: Record<IdentityErrorCode, number> = {
  oidc_not_configured: 404,
  oidc_flow_missing: 400,
  oidc_state_mismatch: 400,
  provider_unreachable: 502,
  provider_refused: 400,
  id_token_invalid: 400,
  email_missing: 400,
  email_unverified: 403,
  local_accounts_disabled: 404,
  invalid_email: 400,
  invalid_password: 400,
  wrong_password: 401,
  throttled: 429,
  reset_link_invalid: 400,
  reset_link_used: 410,
  reset_link_expired: 410,
};

export const IDENTITY_ERROR_TITLE: Partial<Record<IdentityErrorCode, string>> = {
  oidc_flow_missing: 'This sign-in cannot be finished',
  oidc_state_mismatch: 'This sign-in cannot be finished',
  provider_unreachable: 'Sign-in is not available right now',
  provider_refused: 'The sign-in did not complete',
  id_token_invalid: 'The sign-in was refused',
  email_missing: 'We need your email address',
  email_unverified: 'Your email address is not verified',
  local_accounts_disabled: 'Not available here',
  reset_link_invalid: 'This link does not work',
  reset_link_used: 'This link was already used',
  reset_link_expired: 'This link has expired',
};
