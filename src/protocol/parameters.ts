// The signed parameters of one request: the protocol's oauth_* pairs, the query and the form body merged into one
// set of names (as PHP merges them), each name checked, each value encoded the way the profile's verifier encodes
// it, sorted in that verifier's order. Also the query and body to send, which never depend on the profile.
import { QueryError } from './errors.js';
import type { Parameter } from './parameter-order.js';
import { assertNoFlatBaseClash, assertReadableName } from './parameter-names.js';
import { encodeQueryName, percentEncode, type QueryPair } from './query.js';
import type { SigningProfile } from './signing-profiles.js';

export interface SignedParameters {
  /** In the verifier's order. */
  sorted: Parameter[];
  /** The query to send, in the caller's order (order does not matter to Magento, which sorts). */
  query: string;
  /** The form body to send, when there is one. */
  body: string | undefined;
}

/**
 * One oauth_* parameter as it is signed. Every verifier encodes them alike, and all but the nonce and timestamp stay
 * the same for a token's calls, so the signer builds those once (signer.ts) and passes them to collectParameters.
 */
export function protocolParameter(name: string, value: string): Parameter {
  const enc = percentEncode(name);
  return { name, enc, signed: enc + '=' + percentEncode(value) };
}

/** The parameter string of the base string: the sorted parameters' `enc=value` forms joined with `&`. */
export function parameterStringOf(sorted: readonly Parameter[]): string {
  let joined = sorted[0]?.signed ?? '';
  for (let i = 1; i < sorted.length; i++) joined += '&' + sorted[i]!.signed;
  return joined;
}

/** `protocol`: the oauth_* parameters, built by protocolParameter; never mutated (shared between calls). */
export function collectParameters(
  protocol: readonly Parameter[],
  query: readonly QueryPair[],
  form: readonly QueryPair[],
  profile: SigningProfile,
): SignedParameters {
  const params: Parameter[] = protocol.slice();

  const seen = new Set<string>();
  const add = (name: string, signedValue: string): void => {
    if (seen.has(name)) {
      throw new QueryError(
        'duplicate_parameter',
        `parameter ${JSON.stringify(name)} is given more than once (the URL's query, the query and the form body ` +
          `share one set of names in Magento, and PHP keeps only the last); send it once`,
      );
    }
    seen.add(name);
    const enc = percentEncode(name);
    params.push({ name, enc, signed: enc + '=' + signedValue });
  };

  let queryString = '';
  let bracketed = false;
  for (let i = 0; i < query.length; i++) {
    const [name, value] = query[i]!;
    assertReadableName(name, 'query');
    const sent = percentEncode(value);
    // Most verifiers sign the value as sent; laminas-double-encoding encodes it once more.
    add(name, profile.encodeQueryValue === percentEncode ? sent : profile.encodeQueryValue(value));
    if (name.includes('[')) bracketed = true;
    queryString += (i === 0 ? '' : '&') + encodeQueryName(name) + '=' + sent;
  }
  let body: string | undefined;
  if (form.length > 0) {
    body = '';
    for (let i = 0; i < form.length; i++) {
      const [name, value] = form[i]!;
      assertReadableName(name, 'form');
      const sent = percentEncode(value);
      add(name, sent);
      // Form names have no brackets (assertReadableName), so their URL spelling is plain percent-encoding.
      body += (i === 0 ? '' : '&') + percentEncode(name) + '=' + sent;
    }
  }
  if (bracketed) assertNoFlatBaseClash(seen);

  profile.order(params);
  return { sorted: params, query: queryString, body };
}
