// Signing profiles: what one Magento signature verifier checks (docs/magento-protocol.md §7a), as a strategy the
// signer follows. A profile decides three things the verifiers disagree on: the parameter order, how a query value
// is encoded in the parameter string, and which escapes a URL path may carry. Everything else (URL, key, header,
// name rules) is the same on every verifier.
//
// | profile                 | Magento          | order                          | query values  | %2F in a path |
// |-------------------------|------------------|--------------------------------|---------------|---------------|
// | laminas                 | 2.4.4–2.4.7-pN   | strnatcmp of the encoded names | encoded once  | refused       |
// | laminas-double-encoding | 2.4.8-beta1      | strnatcmp of the encoded names | encoded twice | kept          |
// | native                  | 2.4.8 GA, later  | ksort of the raw names         | encoded once  | kept          |
// | common (store unknown)  | any of the above | both; refused where they differ| encoded once  | refused       |
import { SigningError } from './errors.js';
import { everyVerifierOrder, ksortOrder, naturalOrder, type ParameterOrder } from './parameter-order.js';
import { percentEncode } from './query.js';

export const SIGNING_PROFILE_NAMES = ['laminas', 'laminas-double-encoding', 'native'] as const;
/** A store's verifier, once known. `null` (unknown) signs in the common form. */
export type SigningProfileName = (typeof SIGNING_PROFILE_NAMES)[number];

/** Path escapes Magento versions read back differently: `%2B` (`+`), `%2F` (`/`), `%25` before two hex digits. */
export type AmbiguousEscape = '2B' | '2F' | '25';

export interface SigningProfile {
  readonly name: SigningProfileName | 'common';
  /** The parameter order of the verifier (or the refusal). */
  readonly order: ParameterOrder;
  /** A decoded query value as the verifier writes it into the parameter string. */
  encodeQueryValue(value: string): string;
  /** The refusal for a path escape this verifier does not verify as sent, or undefined when it does. */
  refusePathEscape(escape: AmbiguousEscape): SigningError | undefined;
}

const SHOWN: Record<AmbiguousEscape, string> = { '2B': '+', '2F': '/', '25': '%' };
const LOOK_UP_ANOTHER_WAY =
  'Look the item up another way (for a product, GET V1/products with a searchCriteria filter on sku) instead of ' +
  'putting it in the path';

const ambiguousPath = (escape: AmbiguousEscape, why: string): SigningError =>
  new SigningError(
    'ambiguous_path',
    `the URL path contains an encoded "${SHOWN[escape]}" (%${escape}): ${why}. ${LOOK_UP_ANOTHER_WAY}`,
  );

/** A store whose verifier is not known: the one form every verifier accepts, or a refusal. */
export const COMMON_PROFILE: SigningProfile = {
  name: 'common',
  order: everyVerifierOrder,
  encodeQueryValue: percentEncode,
  refusePathEscape: (escape) =>
    ambiguousPath(
      escape,
      'Magento 2.4.4–2.4.7 decode it before checking the signature and later releases do not, so no signature ' +
        'satisfies both',
    ),
};

const LAMINAS_WHO = 'Magento 2.4.4–2.4.7 (this store\'s signing profile, "laminas")';

/** 2.4.4–2.4.7: Laminas\OAuth's Hmac over Laminas\Uri's normalised URL. */
export const LAMINAS_PROFILE: SigningProfile = {
  name: 'laminas',
  order: naturalOrder(LAMINAS_WHO),
  encodeQueryValue: percentEncode,
  // Laminas\Uri::normalize reads these escapes back as other characters before signing (a %2F in a segment never
  // verifies: magento/magento2#37913).
  refusePathEscape: (escape) =>
    ambiguousPath(escape, `${LAMINAS_WHO} decode it before checking the signature, so no signature over the path as sent verifies`),
};

const DOUBLE_WHO = 'Magento 2.4.8-beta1 (this store\'s signing profile, "laminas-double-encoding")';

/**
 * 2.4.8-beta1: Laminas's Hmac, but Helper\Request rawurlencodes every query value before Laminas encodes it again,
 * so a value is encoded twice in the parameter string (magento/magento2#37278), and Helper\Uri\Http::normalizePath
 * keeps %2F. Form body values are not query values and are encoded once.
 */
export const LAMINAS_DOUBLE_ENCODING_PROFILE: SigningProfile = {
  name: 'laminas-double-encoding',
  order: naturalOrder(DOUBLE_WHO),
  encodeQueryValue: (value) => percentEncode(percentEncode(value)),
  // Only %2F was measured to verify as sent; `+` and `%` escapes still go through Laminas's decoding.
  refusePathEscape: (escape) =>
    escape === '2F'
      ? undefined
      : ambiguousPath(escape, `${DOUBLE_WHO} decode it before checking the signature, so no signature over the path as sent verifies`),
};

/** 2.4.8 GA and later: Magento's own Hmac; parse_url, parse_str of the query, ksort of the raw names. */
export const NATIVE_PROFILE: SigningProfile = {
  name: 'native',
  order: ksortOrder('Magento 2.4.8 and later (this store\'s signing profile, "native", ksort)'),
  encodeQueryValue: percentEncode,
  refusePathEscape: () => undefined, // the path is signed exactly as received
};

const PROFILES: Record<SigningProfileName, SigningProfile> = {
  laminas: LAMINAS_PROFILE,
  'laminas-double-encoding': LAMINAS_DOUBLE_ENCODING_PROFILE,
  native: NATIVE_PROFILE,
};

export function isSigningProfileName(value: unknown): value is SigningProfileName {
  return typeof value === 'string' && (SIGNING_PROFILE_NAMES as readonly string[]).includes(value);
}

/** The profile to sign with: the named one, or the common form when the store's verifier is not known (null). */
export function signingProfile(name: SigningProfileName | null | undefined): SigningProfile {
  if (name === null || name === undefined) return COMMON_PROFILE;
  if (!isSigningProfileName(name)) {
    throw new SigningError(
      'invalid_profile',
      `${JSON.stringify(String(name))} is not a signing profile; use one of ${SIGNING_PROFILE_NAMES.join(', ')}, or null when the store's verifier is not known`,
    );
  }
  return PROFILES[name];
}
