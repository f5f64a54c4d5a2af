// Errors raised by the protocol layer. Every one carries a stable `code` for programs (tests, the proxy's JSON errors)
// and a message for people that says what happened and what to do. Magento-response errors belong here too.

export class ProtocolError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
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
  | 'form_body_not_structured';

export class SigningError extends ProtocolError {
  declare readonly code: SigningErrorCode;

  constructor(code: SigningErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** A query string, form body or parameter object that Magento could not read back the way we would sign it. */
export type QueryErrorCode =
  | 'duplicate_parameter'
  | 'parameter_without_value'
  | 'malformed_percent_encoding'
  | 'invalid_unicode'
  | 'invalid_parameter_name'
  | 'reserved_parameter_name'
  | 'unsupported_value';

export class QueryError extends ProtocolError {
  declare readonly code: QueryErrorCode;

  constructor(code: QueryErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
