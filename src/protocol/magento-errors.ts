// What a store answered when it was not what we asked for. Kept apart from transport errors (nothing usable came
// back at all) so callers can tell "Magento said no" from "we could not talk to Magento".
import { ProtocolError } from './errors.js';

/** How much of a store's own text (an oauth_problem, a REST error message) is kept, stored or shown. */
export const STORE_TEXT_MAX = 300;

/**
 * A store's text cut to `max` characters, marked with "…" when cut (issue 13: a store sent 64 KB of oauth_problem,
 * which was stored and shown whole). Magento's own messages are far shorter, and callers match their starts.
 */
export function cutStoreText(text: string, max = STORE_TEXT_MAX): string {
  if (text.length <= max) return text;
  // Not between the two halves of a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

/**
 * A token endpoint answered `oauth_problem=...` (400, 401 or 500). `problem` is Magento's message, decoded, cut to
 * STORE_TEXT_MAX characters.
 */
export class MagentoOAuthProblem extends ProtocolError<'magento_oauth_problem'> {
  readonly problem: string;
  constructor(
    readonly status: number,
    problem: string,
  ) {
    const cut = cutStoreText(problem);
    super('magento_oauth_problem', `Magento answered ${status}: ${cut}`);
    this.problem = cut;
  }
}

/**
 * The store answered something that is not Magento's token response nor an oauth_problem: a redirect, a proxy's 502,
 * an HTML page. Usually a wrong store URL or a store in maintenance.
 */
export class UnexpectedStoreResponse extends ProtocolError<'unexpected_store_response'> {
  readonly hint: string;
  constructor(
    readonly status: number,
    hint: string,
  ) {
    const cut = cutStoreText(hint);
    super('unexpected_store_response', `the store answered HTTP ${status} instead of a token response (${cut})`);
    this.hint = cut;
  }
  /** Gateways and maintenance pages pass; a 404 or a redirect will not. */
  get retryable(): boolean {
    return this.status === 429 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}
