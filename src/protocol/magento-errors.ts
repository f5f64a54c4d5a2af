// What a store answered when it was not what we asked for. Kept apart from transport errors (nothing usable came
// back at all) so callers can tell "Magento said no" from "we could not talk to Magento".
import { ProtocolError } from './errors.js';

/** A token endpoint answered `oauth_problem=...` (400, 401 or 500). `problem` is Magento's message, decoded. */
export class MagentoOAuthProblem extends ProtocolError<'magento_oauth_problem'> {
  constructor(
    readonly status: number,
    readonly problem: string,
  ) {
    super('magento_oauth_problem', `Magento answered ${status}: ${problem}`);
  }
}

/**
 * The store answered something that is not Magento's token response nor an oauth_problem: a redirect, a proxy's 502,
 * an HTML page. Usually a wrong store URL or a store in maintenance.
 */
export class UnexpectedStoreResponse extends ProtocolError<'unexpected_store_response'> {
  constructor(
    readonly status: number,
    readonly hint: string,
  ) {
    super('unexpected_store_response', `the store answered HTTP ${status} instead of a token response (${hint})`);
  }
  /** Gateways and maintenance pages pass; a 404 or a redirect will not. */
  get retryable(): boolean {
    return this.status === 429 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}
