// The one table from error code to HTTP status, for every code the connector's layers raise. Adding a code to any
// layer's code union without a status here is a compile error (`satisfies`), so no error falls through to a 500 by
// omission. Page titles for the browser routes sit beside it.
import type { AccountErrorCode } from '../accounts/accounts.js';
import type { ActivationErrorCode } from '../activation/service.js';
import type { CredentialsErrorCode } from '../activation/credentials.js';
import type { CallErrorCode } from '../store-api/errors.js';
import type { IdentityErrorCode } from '../identity/errors.js';
import type { MailErrorCode } from '../mail/mailer.js';
import type { QueryErrorCode, SigningErrorCode } from '../protocol/errors.js';
import type { TransportErrorCode } from '../protocol/transport-errors.js';
import type { StorageErrorCode } from '../storage/errors.js';
import type { OperatorErrorCode } from '../webhooks/errors.js';
import type { HttpErrorCode } from './errors.js';

/** Codes whose classes carry `code: string` today (protocol/magento-errors.ts, activation/callback.ts). */
type OtherErrorCode = 'magento_oauth_problem' | 'unexpected_store_response' | 'invalid_callback' | 'invalid_path';

export type ErrorCode =
  | HttpErrorCode
  | AccountErrorCode
  | ActivationErrorCode
  | CredentialsErrorCode
  | CallErrorCode
  | IdentityErrorCode
  | MailErrorCode
  | SigningErrorCode
  | QueryErrorCode
  | TransportErrorCode
  | StorageErrorCode
  | OperatorErrorCode
  | OtherErrorCode;

export const ERROR_STATUS = {
  // the HTTP layer: requests we cannot read or route
  bad_request: 400,
  unauthorized: 401,
  csrf_failed: 403,
  not_found: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  unsupported_media_type: 415,
  session_required: 401,
  identity_link_incomplete: 400,
  identity_link_garbled: 400,
  api_key_not_found: 404,
  internal_error: 500,
  // storage
  database_unavailable: 503,
  // a store whose sealed credentials this instance cannot open (SECRETS_KEY lacks their key)
  store_secrets_unreadable: 503,
  // readiness: the secrets key cannot open what the database holds
  secrets_unavailable: 503,
  // WORKERS > 1: a worker's metrics did not arrive in time (src/metrics/cluster.ts)
  metrics_unavailable: 503,
  // accounts (the sign-in and sign-up forms)
  invalid_email: 400,
  invalid_password: 400,
  email_taken: 409,
  bad_credentials: 401,
  throttled: 429,
  // activation: the callback and the popup
  invalid_callback: 400,
  callback_conflict: 409,
  storage_error: 500,
  // connecting a store with pasted credentials (activation/credentials.ts; store_unreachable: below)
  invalid_pasted_credentials: 400,
  consumer_key_rejected: 422,
  token_rejected: 422,
  signature_rejected: 422,
  not_magento_store: 422,
  store_clock_ahead: 422,
  authorization_not_seen: 422,
  consumer_key_bound: 409,
  // operators: keys, the accounts API, webhooks
  operator_only: 403,
  account_not_found: 404,
  webhook_not_found: 404,
  delivery_not_found: 404,
  invalid_webhook_url: 400,
  external_id_taken: 409,
  delivery_already_delivered: 409,
  unknown_activation: 404,
  callback_refused: 409,
  owned_by_other_account: 409,
  activation_failed: 409,
  still_connecting: 504,
  // activation (issue 13): per-account URLs, reserved consumer keys, limits
  unknown_activation_url: 404,
  shared_activation_disabled: 404,
  consumer_key_reserved: 409,
  callback_rate_limited: 429,
  too_many_stores: 409,
  not_a_member: 403,
  store_not_confirmed: 400,
  // calls to a store on an account's behalf (the proxy)
  store_not_found: 404,
  store_not_active: 409,
  store_revoked: 409,
  store_busy: 503,
  // issue 13: too many calls (or response bytes) in flight for the account (429) or for this instance (503)
  account_busy: 429,
  connector_busy: 503,
  request_refused: 400,
  store_unreachable: 502,
  store_timeout: 504,
  response_too_large: 502,
  magento_error: 502,
  // identity: sign-in with the OpenID provider (its round trip) ...
  oidc_not_configured: 404,
  oidc_flow_missing: 400,
  oidc_state_mismatch: 400,
  provider_unreachable: 502,
  provider_refused: 400,
  id_token_invalid: 400,
  email_missing: 400,
  email_unverified: 403,
  no_account: 403,
  // ... and password resets and changes (invalid_email, invalid_password, throttled: as for accounts, above)
  local_accounts_disabled: 404,
  wrong_password: 401,
  reset_link_invalid: 400,
  reset_link_used: 410,
  reset_link_expired: 410,
  // mail (sent after the answer today: should one reach HTTP, the mail server refused it)
  mail_failed: 502,
  store_unavailable: 503,
  graphql_error: 502,
  page_size_too_large: 400,
  changes_stalled: 502,
  // the protocol layer, should one reach HTTP untranslated: our request could not be signed or read ...
  ambiguous_parameter_order: 400,
  ambiguous_path: 400,
  invalid_url: 400,
  invalid_method: 400,
  invalid_credentials: 400,
  invalid_nonce: 400,
  invalid_timestamp: 400,
  form_body_not_structured: 400,
  invalid_profile: 400,
  invalid_path: 400,
  duplicate_parameter: 400,
  parameter_without_value: 400,
  malformed_percent_encoding: 400,
  invalid_unicode: 400,
  invalid_parameter_name: 400,
  reserved_parameter_name: 400,
  unsupported_value: 400,
  request_too_large: 413,
  invalid_request: 400,
  // ... or the store did not answer as Magento does
  egress_denied: 502,
  upstream_timeout: 504,
  upstream_unreachable: 502,
  request_aborted: 499,
  response_budget_exceeded: 503,
  magento_oauth_problem: 502,
  unexpected_store_response: 502,
} as const satisfies Record<ErrorCode, number>;

export function hasStatus(code: string): boolean {
  return Object.hasOwn(ERROR_STATUS, code);
}

/** The status for a code; 500 for a code nobody gave one (the handler logs that as an error). */
export function statusOf(code: string): number {
  return hasStatus(code) ? (ERROR_STATUS as Record<string, number>)[code]! : 500;
}

/** The heading of the error page for a code; the status decides when the code has none of its own. */
const PAGE_TITLE: Partial<Record<ErrorCode, string>> = {
  identity_link_incomplete: 'This link is incomplete',
  identity_link_garbled: 'This link is garbled',
  csrf_failed: 'Please try again',
  session_required: 'Please sign in again',
  unknown_activation: 'We do not know this activation yet',
  callback_refused: 'Magento\'s callback was refused',
  owned_by_other_account: 'This store belongs to another account',
  still_connecting: 'Still connecting',
  store_secrets_unreadable: 'This store cannot be used right now',
  callback_conflict: 'This activation was refused',
  activation_failed: 'The store could not be connected',
  unknown_activation_url: 'This activation link is not valid',
  shared_activation_disabled: 'Use your account\'s own activation URLs',
  consumer_key_reserved: 'This integration is reserved',
  callback_rate_limited: 'Too many activations',
  too_many_stores: 'Too many stores',
  not_a_member: 'This store belongs to another account',
  store_not_confirmed: 'Please confirm the store',
  invalid_pasted_credentials: 'The store could not be connected',
  consumer_key_rejected: 'The store could not be connected',
  token_rejected: 'The store could not be connected',
  signature_rejected: 'The store could not be connected',
  not_magento_store: 'The store could not be connected',
  store_clock_ahead: 'The store could not be connected',
  authorization_not_seen: 'The store could not be connected',
  consumer_key_bound: 'This store is connected already',
  store_not_found: 'No such store',
  api_key_not_found: 'No such key',
  oidc_not_configured: 'Sign-in failed',
  oidc_flow_missing: 'This sign-in cannot be finished',
  oidc_state_mismatch: 'This sign-in cannot be finished',
  provider_unreachable: 'Sign-in is not available right now',
  provider_refused: 'The sign-in did not complete',
  id_token_invalid: 'The sign-in was refused',
  email_missing: 'We need your email address',
  email_unverified: 'Your email address is not verified',
  no_account: 'No account for this sign-in',
  local_accounts_disabled: 'Not available here',
  reset_link_invalid: 'This link does not work',
  reset_link_used: 'This link was already used',
  reset_link_expired: 'This link has expired',
  not_found: 'There is no such page',
  method_not_allowed: 'This address is for a form',
  database_unavailable: 'We are having trouble right now',
  internal_error: 'Something went wrong',
};

export function pageTitleOf(code: string): string {
  return (PAGE_TITLE as Record<string, string>)[code] ?? 'Something is not right';
}
