// Magento's callback POST is unsigned: anyone can send one. This is the edge check of its four fields; nothing is
// stored unless all of them pass (docs/magento-protocol.md §2).
import { sha256 } from '../secrets/digest.js';
import { ConnectorError } from '../errors.js';
import { parseStoreBaseUrl } from '../protocol/store-url.js';
import type { CallbackRefusalReason } from '../storage/types.js';

export interface CallbackInput {
  consumerKey: string;
  consumerSecret: string;
  storeBaseUrl: string;
  verifier: string;
}

export class CallbackInputError extends ConnectorError<'invalid_callback'> {
  constructor(
    message: string,
    readonly reason: CallbackRefusalReason,
    readonly field: string | undefined,
    /** SHA-256 of the callback's consumer key when that key itself was well-formed (the refusal is remembered by it). */
    readonly consumerKeyHash: string | undefined,
  ) {
    super('invalid_callback', message);
  }
}

const FIELDS = {
  oauth_consumer_key: 'consumerKey',
  oauth_consumer_secret: 'consumerSecret',
  oauth_verifier: 'verifier',
  store_base_url: 'storeBaseUrl',
} as const;
type Field = keyof typeof FIELDS;

// Magento sends 32 characters of [0-9a-z]; accept a little more so a future length change does not lock us out.
const CREDENTIAL = /^[0-9A-Za-z]{16,64}$/;

/**
 * A consumer key as the binding stores it, or null when `raw` cannot be one. Magento's keys are lower-case and it
 * looks them up case-insensitively: one spelling, one binding.
 */
export function normaliseConsumerKey(raw: unknown): string | null {
  return typeof raw === 'string' && CREDENTIAL.test(raw) ? raw.toLowerCase() : null;
}

/** How refusals and logs name a consumer key: its SHA-256, never the key. */
export function consumerKeyHash(consumerKey: string): string {
  return sha256(consumerKey);
}

export function parseCallback(body: Record<string, unknown>, options: { allowPrivate: boolean }): CallbackInput {
  const key = normaliseConsumerKey(body.oauth_consumer_key);
  const keyHash = key === null ? undefined : consumerKeyHash(key);
  const refuse = (message: string, reason: CallbackRefusalReason, field: string | undefined) =>
    new CallbackInputError(message, reason, field, keyHash);
  const extra = Object.keys(body).filter((name) => !(name in FIELDS));
  if (extra.length) {
    throw refuse(
      `unexpected field ${extra.map((n) => JSON.stringify(n.slice(0, 40))).join(', ')}: Magento's callback carries only ` +
        Object.keys(FIELDS).join(', '),
      'unexpected_field',
      extra[0],
    );
  }
  const value = (name: Field): string => {
    const raw = body[name];
    if (raw === undefined || raw === '') throw refuse(`${name} is missing`, 'invalid_field', name);
    if (typeof raw !== 'string') throw refuse(`${name} must be given once, as a single value`, 'invalid_field', name);
    return raw;
  };
  const out: Partial<CallbackInput> = {};
  for (const name of ['oauth_consumer_key', 'oauth_consumer_secret', 'oauth_verifier'] as const) {
    const v = value(name);
    if (!CREDENTIAL.test(v)) throw refuse(`${name} must be 16 to 64 letters and digits (Magento sends 32)`, 'invalid_field', name);
    out[FIELDS[name]] = name === 'oauth_consumer_key' ? v.toLowerCase() : v;
  }
  const raw = value('store_base_url');
  const url = parseStoreBaseUrl(raw, { allowPrivate: options.allowPrivate });
  if (!url.ok) {
    // Acceptable once private store URLs are allowed: the https/public-address rule refused it, and that has a switch.
    const onlyPrivate = !options.allowPrivate && parseStoreBaseUrl(raw, { allowPrivate: true }).ok;
    throw refuse(url.message, onlyPrivate ? 'private_store_url' : 'invalid_store_url', 'store_base_url');
  }
  out.storeBaseUrl = url.url;
  return out as CallbackInput;
}
