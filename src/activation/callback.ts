// Magento's callback POST is unsigned: anyone can send one. This is the edge check of its four fields; nothing is
// stored unless all of them pass. (Protocol notes section 2.)
import { parseStoreBaseUrl } from '../protocol/store-url.js';

export interface CallbackInput {
  consumerKey: string;
  consumerSecret: string;
  storeBaseUrl: string;
  verifier: string;
}

export class CallbackInputError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'CallbackInputError';
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

export function parseCallback(body: Record<string, unknown>, options: { allowPrivate: boolean }): CallbackInput {
  const extra = Object.keys(body).filter((name) => !(name in FIELDS));
  if (extra.length) {
    throw new CallbackInputError(
      `unexpected field ${extra.map((n) => JSON.stringify(n.slice(0, 40))).join(', ')}: Magento's callback carries only ` +
        Object.keys(FIELDS).join(', '),
      extra[0],
    );
  }
  const value = (name: Field): string => {
    const raw = body[name];
    if (raw === undefined || raw === '') throw new CallbackInputError(`${name} is missing`, name);
    if (typeof raw !== 'string') throw new CallbackInputError(`${name} must be given once, as a single value`, name);
    return raw;
  };
  const out: Partial<CallbackInput> = {};
  for (const name of ['oauth_consumer_key', 'oauth_consumer_secret', 'oauth_verifier'] as const) {
    const v = value(name);
    if (!CREDENTIAL.test(v)) {
      throw new CallbackInputError(`${name} must be 16 to 64 letters and digits (Magento sends 32)`, name);
    }
    // Magento's keys are lower-case and it looks them up case-insensitively: one spelling, one binding.
    out[FIELDS[name]] = name === 'oauth_consumer_key' ? v.toLowerCase() : v;
  }
  const url = parseStoreBaseUrl(value('store_base_url'), { allowPrivate: options.allowPrivate });
  if (!url.ok) throw new CallbackInputError(url.message, 'store_base_url');
  out.storeBaseUrl = url.url;
  return out as CallbackInput;
}
