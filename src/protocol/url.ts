// The URL that is signed and the URL that is sent are one and the same string: Magento rebuilds the base string's
// URL from what it received (docs/magento-protocol.md §7), so the caller must send exactly what we return.
import { SigningError } from './errors.js';
import { buildQueryString, parseFormEncoded, percentEncode, type QueryPair } from './query.js';
import { COMMON_PROFILE, type SigningProfile } from './signing-profiles.js';

export interface SplitUrl {
  /** scheme://host[:port]/path as sent, no query: the base string's URL. */
  base: string;
  /** The URL's own query, decoded. */
  pairs: QueryPair[];
}

/** Checks and normalises an absolute URL for signing under `profile`, and reads its query. */
export function splitUrl(input: string | URL, profile: SigningProfile = COMMON_PROFILE): SplitUrl {
  let url: URL;
  try {
    url = new URL(typeof input === 'string' ? input : input.href);
  } catch (cause) {
    throw new SigningError('invalid_url', `${JSON.stringify(String(input))} is not an absolute URL`, { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SigningError('invalid_url', `only http:// and https:// URLs can be signed, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new SigningError('invalid_url', 'the URL must not carry a user name or password; Magento signs without them');
  }
  // WHATWG URL is what axios, fetch and node:http put on the wire, so its serialisation is what Magento receives:
  // scheme and host lower-cased, the default port dropped, the path otherwise as given (`/index.php`, the store code,
  // percent-escapes such as %2F untouched). The fragment is never sent.
  const base = url.protocol + '//' + url.host + canonicalPath(url.pathname, profile);
  const search = url.search;
  return { base, pairs: search.length > 1 ? parseFormEncoded(search.slice(1)) : [] };
}

// Characters a path may carry raw that every Magento version reads back the same: unreserved, and the sub-delimiters
// Laminas\Uri (2.4.4–2.4.7) leaves alone. `+` is left out (Magento's router reads a raw `+` in a path as a space),
// as are `/` and `%`.
const PATH_SAFE_RAW = /^[A-Za-z0-9\-._~:@&=$,;]$/;
// One list for both: `%` is sent raw only when no two hex digits follow it, so a path of the others alone is its
// own canonical form (PATH_PLAIN).
const PATH_RAW_CHARS = 'A-Za-z0-9\\-._~:@&=$,;/+';
const PATH_RAW_ALLOWED = new RegExp(`[${PATH_RAW_CHARS}%]`);
const PATH_PLAIN = new RegExp(`^[${PATH_RAW_CHARS}]*$`);
const HEX2 = /^[0-9A-Fa-f]{2}$/;

/**
 * The one spelling of a path that Magento 2.4.4–2.4.7 (whose Laminas URL normalisation decodes escapes of
 * `[A-Za-z0-9-._~:@&=+$,/;%]` and encodes everything else outside that set before signing) and the current code
 * (which signs the path as received) both sign as sent: escapes of safe characters decoded, every other character
 * outside the set escaped, hex upper-case. `%2B` (`+`), `%2F` (`/`) and `%25` before two hex digits are read back
 * differently by the verifiers: kept where the profile's verifier signs them as sent, refused otherwise.
 */
export function canonicalPath(path: string, profile: SigningProfile = COMMON_PROFILE): string {
  // Most paths (`/rest/V1/products/24-MB01`) have nothing to decode or escape: the loop below would copy them as
  // they are, a character and a regex test at a time (issue 16).
  if (PATH_PLAIN.test(path)) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '%' && HEX2.test(path.slice(i + 1, i + 3))) {
      const hex = path.slice(i + 1, i + 3).toUpperCase();
      const ch = String.fromCharCode(parseInt(hex, 16));
      if (PATH_SAFE_RAW.test(ch)) out += ch;
      else {
        const ambiguous = hex === '2B' || hex === '2F' || (hex === '25' && HEX2.test(path.slice(i + 3, i + 5)));
        const refusal = ambiguous ? profile.refusePathEscape(hex as '2B' | '2F' | '25') : undefined;
        if (refusal) throw refusal;
        out += '%' + hex;
      }
      i += 2;
    } else if (PATH_RAW_ALLOWED.test(c)) {
      out += c;
    } else {
      out += percentEncode(c);
    }
  }
  return out;
}

/**
 * The URL to send (and to sign): scheme and host lower-case, default port dropped, path kept exactly (`/index.php`,
 * store code, `%2F`), fragment dropped, query read as application/x-www-form-urlencoded and re-encoded the way the
 * signer sends it (bracketed names raw, values RFC 3986). Applying it to its own output changes nothing.
 */
export function normaliseUrl(url: string | URL, profile: SigningProfile = COMMON_PROFILE): string {
  const { base, pairs } = splitUrl(url, profile);
  return pairs.length === 0 ? base : base + '?' + buildQueryString(pairs);
}

