// Typed errors of calls made on a merchant's behalf: the proxy answers them with their code (the HTTP layer maps
// codes to statuses), the TypeScript client throws them. Magento's messages are shown to people with their
// %placeholders filled from `parameters`.
import { fixText } from '../activation/fixes.js';
import { ConnectorError, type ConnectorErrorOptions } from '../errors.js';
import type { Binding } from '../storage/types.js';

export type CallErrorCode =
  | 'store_not_found'
  | 'store_not_active'
  | 'store_revoked'
  | 'store_busy'
  | 'request_refused'
  | 'store_unreachable'
  | 'store_timeout'
  | 'response_too_large'
  | 'magento_error'
  // issue 15: calls a CRM makes (GraphQL, incremental reads, store availability)
  | 'store_unavailable'
  | 'graphql_error'
  | 'page_size_too_large'
  | 'changes_stalled'
  // issue 13: bounds on calls in flight and on the response bytes they hold (limits.ts)
  | 'account_busy'
  | 'connector_busy';

export class CallError extends ConnectorError<CallErrorCode> {
  constructor(code: CallErrorCode, message: string, options?: ConnectorErrorOptions) {
    super(code, message, options);
  }
}

export class StoreNotFoundError extends CallError {
  constructor() {
    super('store_not_found', 'No store with this id belongs to your account.');
  }
}

export class StoreNotActiveError extends CallError {
  readonly state: string;
  constructor(binding: Pick<Binding, 'state' | 'lastError' | 'fix'>) {
    const { state, lastError: detail } = binding;
    // The button Magento shows now: Reauthorize for an integration it still holds Active, else Activate.
    const button = binding.fix === 'activate_again' ? 'Activate' : 'Reauthorize';
    super(
      state === 'revoked' ? 'store_revoked' : 'store_not_active',
      state === 'revoked'
        ? `Magento no longer accepts this store's access token${detail ? ` (${detail})` : ''}. The merchant must click ${button} on the integration in the Magento admin.`
        : `This store is not connected yet (state: ${state})${detail ? `: ${detail}` : ''}.`,
      { fix: fixText(binding.fix) },
    );
    this.state = state;
  }
}

export class StoreBusyError extends CallError {
  constructor(readonly limit: number) {
    super('store_busy', `Too many requests to this store are waiting (limit ${limit}); retry shortly.`, { retryAfterSeconds: 1 });
  }
}

/**
 * The account has as many calls to its stores in flight on this instance as it may (MAX_CALLS_PER_ACCOUNT), or its
 * responses being received hold as many bytes as they may (MAX_RESPONSE_BUFFER_MB_PER_ACCOUNT). 429: the caller
 * sends too much at once; it clears as its own calls finish.
 */
export class AccountBusyError extends CallError {
  constructor(message: string, options?: ConnectorErrorOptions) {
    super('account_busy', message, { retryAfterSeconds: 1, ...options });
  }
}

/**
 * This instance has as many calls to stores in flight as it may (MAX_CALLS), or its responses being received hold
 * as many bytes as they may (MAX_RESPONSE_BUFFER_MB). 503: not the caller's doing; another instance may serve it.
 */
export class ConnectorBusyError extends CallError {
  constructor(message: string, options?: ConnectorErrorOptions) {
    super('connector_busy', message, { retryAfterSeconds: 2, ...options });
  }
}

export class RequestRefusedError extends CallError {
  constructor(message: string, options?: ConnectorErrorOptions) {
    super('request_refused', message, options);
  }
}

export class StoreUnreachableError extends CallError {
  constructor(message: string, options?: ConnectorErrorOptions) {
    super('store_unreachable', message, options);
  }
}

export class StoreTimeoutError extends CallError {
  constructor(message: string, options?: ConnectorErrorOptions) {
    super('store_timeout', message, options);
  }
}

/** Magento answered the TypeScript client with an error status. `message` is Magento's, placeholders filled. */
export class MagentoApiError extends CallError {
  constructor(
    readonly status: number,
    readonly magentoMessage: string,
    readonly parameters: unknown,
    readonly body: unknown,
  ) {
    super('magento_error', `Magento answered ${status}: ${fillPlaceholders(magentoMessage, parameters)}`);
  }
}

/**
 * Magento's messages carry %name (named parameters) or %1 (positional) placeholders:
 * "No such entity with %fieldName = %fieldValue" + {fieldName: "customerId", fieldValue: 2}
 * -> "No such entity with customerId = 2".
 */
export function fillPlaceholders(message: string, parameters: unknown): string {
  if (parameters === null || typeof parameters !== 'object') return message;
  const values = parameters as Record<string, unknown>;
  const lookup = (key: string): string | undefined => {
    const direct = Array.isArray(parameters) ? parameters[Number(key) - 1] : values[key];
    return direct === undefined || direct === null ? undefined : typeof direct === 'object' ? JSON.stringify(direct) : String(direct);
  };
  return message.replace(/%(\w+)/g, (whole, key: string) => lookup(key) ?? whole);
}

/**
 * Magento's error body, when the body is one: JSON `{"message": "...", "parameters": ...}`, or the same as XML
 * (`<response><message>...</message><parameters>...</parameters></response>`) for a caller that asked for XML.
 */
export function readMagentoError(body: Buffer, contentType: string | undefined): { message: string; parameters: unknown } | null {
  if (contentType?.includes('json')) return readJsonError(body);
  if (contentType?.includes('xml')) return readXmlError(body);
  return null;
}

function readJsonError(body: Buffer): { message: string; parameters: unknown } | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') {
      const { message, parameters } = parsed as { message: string; parameters?: unknown };
      return { message, parameters: parameters ?? null };
    }
  } catch {
    // not JSON after all
  }
  return null;
}

// Enough of XML for Magento's flat error document: text, entities, CDATA; no attributes.
const XML_MESSAGE = /^\s*(?:<\?xml[^>]*\?>\s*)?<response>\s*<message>([\s\S]*?)<\/message>/;
const XML_PARAMETERS = /<parameters>([\s\S]*?)<\/parameters>/;
const XML_CHILD = /<([A-Za-z_][\w.-]*)>([\s\S]*?)<\/\1>/g;

function xmlText(s: string): string {
  const cdata = /^<!\[CDATA\[([\s\S]*)\]\]>$/.exec(s.trim());
  if (cdata) return cdata[1]!;
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (whole, entity: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (entity[0] !== '#') return named[entity.toLowerCase()] ?? whole;
    const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

function readXmlError(body: Buffer): { message: string; parameters: unknown } | null {
  const text = body.toString('utf8');
  const message = XML_MESSAGE.exec(text);
  if (!message) return null;
  let parameters: unknown = null;
  const params = XML_PARAMETERS.exec(text.slice(message.index + message[0].length));
  if (params) {
    const children = [...params[1]!.matchAll(XML_CHILD)].map((m) => [m[1]!, xmlText(m[2]!)] as const);
    // A positional list (%1, %2) is rendered as <item> elements; named parameters as elements of their name.
    parameters = children.every(([name]) => name === 'item') ? children.map(([, v]) => v) : Object.fromEntries(children);
  }
  return { message: xmlText(message[1]!), parameters };
}

// ---- issue 15: GraphQL, incremental reads, store availability ---------------------------------------------------

/** The store failed several calls in a row (502/503/504 or unreachable): calls fail fast until a trial succeeds. */
export class StoreUnavailableError extends CallError {
  constructor(
    readonly storeBaseUrl: string,
    retryAfterSeconds: number,
    reason: string | null,
  ) {
    super(
      'store_unavailable',
      `The store at ${storeBaseUrl} is unavailable${reason ? ` (${reason})` : ''}: calls to it are paused and one is ` +
        `let through to test it in ${retryAfterSeconds} s. This is not a disconnection; nothing needs to be done in Magento ` +
        'unless the store stays down.',
      { retryAfterSeconds },
    );
  }
}

export interface GraphQLErrorEntry {
  message: string;
  /** The field path of the failed field, e.g. ["customers"]; absent for errors raised before execution. */
  path?: Array<string | number>;
  locations?: Array<{ line: number; column: number }>;
  /** Magento's `extensions.category`: graphql-input, graphql-authorization, graphql-no-such-entity, ... */
  category?: string;
}

/**
 * Magento answered a GraphQL query with `errors` (HTTP 200 while executing, HTTP 500 before execution). `data` is
 * what Magento did return (the failed fields null), or null. Magento masks its OAuth failures on GraphQL as
 * "Internal server error" (HTTP 500): the same words as any internal failure.
 */
export class MagentoGraphQLError extends CallError {
  readonly messages: string[];
  readonly paths: Array<Array<string | number> | null>;
  readonly categories: Array<string | null>;
  constructor(
    readonly status: number,
    readonly errors: GraphQLErrorEntry[],
    readonly data: unknown,
  ) {
    const first = errors[0]?.message ?? 'unknown error';
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    const at = errors[0]?.path ? ` at ${errors[0].path.join('.')}` : '';
    super('graphql_error', `Magento's GraphQL answered ${status} with an error${at}: ${first}${more}`);
    this.messages = errors.map((e) => e.message);
    this.paths = errors.map((e) => e.path ?? null);
    this.categories = errors.map((e) => e.category ?? null);
  }
}

/** The store refused the page size (Magento 2.4.7+ `webapi/validation/maximum_page_size`, 300 by default). */
export class PageSizeTooLargeError extends CallError {
  constructor(
    readonly requested: number,
    readonly maximum: number | null,
  ) {
    super(
      'page_size_too_large',
      `The store accepts at most ${maximum ?? 'fewer'} items per page, and ${requested} were asked for. Pass ` +
        `{ pageSize: ${maximum ?? 100} } (or less) to this read, or raise the store's maximum in the Magento admin ` +
        '(the setting webapi/validation/maximum_page_size).',
      { fix: `Use pageSize ${maximum ?? 100} or less for this store.` },
    );
  }
}

/** An incremental read stopped making progress: the store answered the same items again although more remain. */
export class ChangesStalledError extends CallError {
  constructor(message: string) {
    super('changes_stalled', message);
  }
}
