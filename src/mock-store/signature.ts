// The signature Magento 2.4.4-2.4.7 computes to check a request: Laminas\OAuth\Http\Utility::sign ->
// Laminas\OAuth\Signature\Hmac::sign -> AbstractSignature::getBaseSignatureString, ported byte for byte.
//  - URL: Laminas\Uri normalize() (scheme and host lower-cased, default port dropped, dot segments removed,
//    percent-escapes of [A-Za-z0-9-._~:@&=+$,/;%] decoded and other escapes upper-cased, then everything outside
//    that set encoded), query and fragment dropped;
//  - parameters: keys and values rawurlencoded, sorted by uksort(..., 'strnatcmp') on the ENCODED keys
//    (stable: PHP 8 sorts are stable), `oauth_signature` left out;
//  - HMAC over METHOD&enc(url)&enc(k=v&...), key enc(consumer_secret)&enc(token_secret), base64.
// Everything is a byte string (see php.ts).
import { createHmac } from 'node:crypto';
import { rawurldecode, rawurlencode, strnatcmp } from './php.js';

const PATH_ALLOWED = /[a-zA-Z0-9_\-.~:@&=+$,/;%]/;
const PATH_ENCODE = /(?:[^a-zA-Z0-9_\-.~:@&=+$,/;%]+|%(?![A-Fa-f0-9]{2}))/g;
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

export class UnsupportedSignatureUrl extends Error {}

/** Laminas\Uri\Uri::removePathDotSegments (RFC 3986 5.2.4 as Laminas wrote it). */
export function removePathDotSegments(path: string): string {
  let output = '';
  while (path) {
    if (path === '..' || path === '.') break;
    if (path === '/.') {
      path = '/';
    } else if (path === '/..') {
      path = '/';
      const last = output.lastIndexOf('/');
      if (last !== -1) output = output.slice(0, last);
    } else if (path.startsWith('/../')) {
      path = '/' + path.slice(4);
      const last = output.lastIndexOf('/');
      if (last !== -1) output = output.slice(0, last);
    } else if (path.startsWith('/./')) {
      path = path.slice(2);
    } else if (path.startsWith('./')) {
      path = path.slice(2);
    } else if (path.startsWith('../')) {
      path = path.slice(3);
    } else {
      const slash = path.indexOf('/', 1);
      const seg = slash === -1 ? path : path.slice(0, slash);
      output += seg;
      path = path.slice(seg.length);
    }
  }
  return output;
}

/** Uri::decodeUrlEncodedChars: escapes of characters in `allowed` decoded, other escapes upper-cased. */
function decodeUrlEncodedChars(path: string, allowed: RegExp): string {
  return path.replace(/%[A-Fa-f0-9]{2}/g, (m) => {
    const ch = rawurldecode(m);
    return allowed.test(ch) ? ch : m.toUpperCase();
  });
}

/** Uri::encodePath */
const encodePath = (path: string): string => path.replace(PATH_ENCODE, (m) => rawurlencode(m));

/** Laminas\Uri\Uri::normalizePath: decodes `%2F` (and the other path characters), so an encoded slash is lost. */
export function normalizePath(path: string): string {
  return encodePath(decodeUrlEncodedChars(removePathDotSegments(path), PATH_ALLOWED));
}

/**
 * Magento\Framework\Oauth\Helper\Uri\Http::normalizePath (2.4.8-beta1): decodes only unreserved characters, so
 * `%2F` in a segment survives.
 */
export function normalizePathKeepingReserved(path: string): string {
  return encodePath(decodeUrlEncodedChars(removePathDotSegments(path), /[A-Za-z0-9\-_.~]/));
}

/**
 * AbstractSignature::normaliseBaseSignatureUrl for the URL Magento builds from the request
 * (Oauth\Helper\Request::getRequestUrl: scheme + '://' + raw Host header + request URI).
 */
export function normaliseBaseSignatureUrl(url: string, pathNormalizer: (path: string) => string = normalizePath): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(url);
  if (!m) throw new UnsupportedSignatureUrl('Invalid URL provided; must be an HTTP or HTTPS scheme');
  const scheme = m[1]!.toLowerCase();
  if (!(scheme in DEFAULT_PORTS)) {
    throw new UnsupportedSignatureUrl('Invalid URL provided; must be an HTTP or HTTPS scheme');
  }
  const authority = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(m[2]!)!;
  const host = authority[1]!.toLowerCase();
  const port = authority[2];
  const keepPort = port !== undefined && port !== '' && Number(port) !== Number(DEFAULT_PORTS[scheme]);
  const path = m[3] ? pathNormalizer(m[3]) : '';
  return `${scheme}://${host}${keepPort ? `:${port}` : ''}${host && !path ? '/' : path}`;
}

/** Laminas HTTPUtility::urlEncode: rawurlencode with %7E back to ~ (already so in PHP >= 5.3). */
const laminasEncode = rawurlencode;

/** AbstractSignature::getBaseSignatureString */
export function baseSignatureString(
  method: string,
  url: string,
  params: ReadonlyMap<string, string>,
  pathNormalizer: (path: string) => string = normalizePath,
): string {
  const encoded = new Map<string, string>();
  for (const [k, v] of params) encoded.set(laminasEncode(k), laminasEncode(v));
  encoded.delete('oauth_signature');
  const sorted = [...encoded].sort((a, b) => strnatcmp(a[0], b[0]));
  const query = sorted.map(([k, v]) => `${k}=${v}`).join('&');
  return [method.toUpperCase(), laminasEncode(normaliseBaseSignatureUrl(url, pathNormalizer)), laminasEncode(query)].join('&');
}

/** Laminas Signature\Hmac::sign with the hash from the method name (HMAC-SHA256 -> sha256). */
export function hmacSignature(
  signatureMethod: string,
  base: string,
  consumerSecret: string,
  tokenSecret: string | null,
): string {
  const algorithm = (signatureMethod.split('-')[1] ?? '').toLowerCase();
  const key = `${laminasEncode(consumerSecret)}&${laminasEncode(tokenSecret ?? '')}`;
  return createHmac(algorithm, Buffer.from(key, 'latin1')).update(Buffer.from(base, 'latin1')).digest('base64');
}
