// Errors of sign-in with an OpenID provider and of password resets and changes. Codes are public (tests and the
// HTTP layer's status table, src/http/error-status.ts, match on them).
import { ConnectorError, type ConnectorErrorOptions } from '../errors.js';

export type IdentityErrorCode =
  // the round trip to the provider
  | 'oidc_not_configured'
  | 'oidc_flow_missing' // no (valid, unexpired) flow cookie: a replayed, foreign or very late callback
  | 'oidc_state_mismatch'
  | 'provider_unreachable'
  | 'provider_refused' // the provider answered with an OAuth error (access_denied, invalid_grant...)
  | 'id_token_invalid' // issuer, audience, expiry, nonce or signature did not check out
  | 'email_missing'
  | 'email_unverified'
  | 'no_account' // issue 13: an account's own popup creates no account
  // passwords
  | 'local_accounts_disabled'
  | 'invalid_email'
  | 'invalid_password'
  | 'wrong_password'
  | 'throttled'
  | 'reset_link_invalid'
  | 'reset_link_used'
  | 'reset_link_expired';

export class IdentityError extends ConnectorError<IdentityErrorCode> {
  constructor(code: IdentityErrorCode, message: string, options: ConnectorErrorOptions = {}) {
    super(code, message, options);
  }
}
