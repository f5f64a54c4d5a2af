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
  | 'magento_error';

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
