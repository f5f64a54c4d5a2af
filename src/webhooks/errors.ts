// Errors of the webhook and operator domains. Codes are public API; their HTTP statuses are decided in the HTTP
// layer's table (src/http/error-status.ts).
import { ConnectorError } from '../errors.js';

export type OperatorErrorCode =
  | 'invalid_request'
  | 'operator_only'
  | 'email_taken'
  | 'external_id_taken'
  | 'account_not_found'
  | 'invalid_webhook_url'
  | 'webhook_not_found'
  | 'delivery_not_found'
  | 'delivery_already_delivered';

export class OperatorError extends ConnectorError<OperatorErrorCode> {
  constructor(
    code: OperatorErrorCode,
    message: string,
    /** The request field at fault, for 400s. */
    readonly field?: string,
  ) {
    super(code, message);
  }
}
