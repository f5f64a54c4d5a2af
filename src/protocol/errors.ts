// Errors raised by the protocol layer, all under ProtocolError (itself a ConnectorError, src/errors.ts). Every one
// carries a stable `code` for programs (tests, the proxy's JSON errors) and a message for people that says what
// happened and what to do. The transport's errors are in transport-errors.ts, Magento's answers in magento-errors.ts.
import { ConnectorError } from '../errors.js';

export class ProtocolError<Code extends string = string> extends ConnectorError<Code> {
  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(code, message, options?.cause === undefined ? {} : { cause: options.cause });
  }
}

/** Why the signer refused to sign: sending the request would only earn a 401 (or worse, sign something else). */
export type SigningErrorCode =
  | 'ambiguous_parameter_order'
  | 'ambiguous_path'
  | 'invalid_url'
  | 'invalid_method'
  | 'invalid_credentials'
  | 'invalid_nonce'
  | 'invalid_timestamp'
  | 'invalid_profile'
  | 'form_body_not_structured';

export class SigningError extends ProtocolError<SigningErrorCode> {}

/** A query string, form body or parameter object that Magento could not read back the way we would sign it. */
export type QueryErrorCode =
  | 'duplicate_parameter'
  | 'parameter_without_value'
  | 'malformed_percent_encoding'
  | 'invalid_unicode'
  | 'invalid_parameter_name'
  | 'reserved_parameter_name'
  | 'unsupported_value';

export class QueryError extends ProtocolError<QueryErrorCode> {}
