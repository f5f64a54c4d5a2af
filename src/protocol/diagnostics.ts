// Diagnostics and tests: the base string Magento computes for a request, and the HMAC of a base string, without
// signing anything. Sending a request is createSigner()'s job (signer.ts).
import { createHmac } from 'node:crypto';
import { SigningError } from './errors.js';
import { collectParameters, parameterStringOf, protocolParameter } from './parameters.js';
import type { Parameter } from './parameter-order.js';
import { flattenQuery, percentEncode, type QueryInput, type QueryPair } from './query.js';
import { signingProfile, type SigningProfileName } from './signing-profiles.js';
import { baseStringOf, methodOf } from './signer.js';
import { splitUrl } from './url.js';

/**
 * The base string Magento computes for `method` + `url` (its query included) with the given protocol parameters
 * (`oauth_*`, `oauth_signature` excluded) and optional form body fields, for the given signing profile (the common
 * form by default), with the same checks as signing.
 */
export function signatureBaseString(
  method: string,
  url: string | URL,
  protocol: Readonly<Record<string, string>>,
  form?: QueryInput,
  profile: SigningProfileName | null = null,
): string {
  const protocolParams: Parameter[] = [];
  for (const [name, value] of Object.entries(protocol)) {
    if (!name.startsWith('oauth_') || name === 'oauth_signature') {
      throw new SigningError('invalid_credentials', `${name} is not a protocol parameter that is signed`);
    }
    protocolParams.push(protocolParameter(name, value));
  }
  const strategy = signingProfile(profile);
  const { base, pairs } = splitUrl(url, strategy);
  const params = collectParameters(protocolParams, pairs, form === undefined ? [] : flattenQuery(form), strategy);
  return baseStringOf(methodOf(method), base, parameterStringOf(params.sorted));
}

/**
 * Base64 HMAC of a base string with key `enc(consumer_secret)&enc(token_secret)`. SHA-1 exists only to check the
 * OAuth 1.0a spec's published example; requests are signed by createSigner(), with HMAC-SHA256 only.
 */
export function hmacSignature(
  baseString: string,
  consumerSecret: string,
  tokenSecret = '',
  algorithm: 'sha256' | 'sha1' = 'sha256',
): string {
  return createHmac(algorithm, percentEncode(consumerSecret) + '&' + percentEncode(tokenSecret))
    .update(baseString)
    .digest('base64');
}
