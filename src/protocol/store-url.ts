// Syntactic validation of the store_base_url that Magento's (unsigned, attacker-reachable) callback carries. No DNS
// here: a name that resolves to an internal address is caught by the transport at connect time (egress-agent.ts).
// What this refuses is what can be judged from the text alone, and the result is the one canonical spelling that
// every endpoint URL is built from (Magento's signature covers the exact URL, so it must not vary).
import { isIPv4 } from 'node:net';
import { isPublicAddress } from './net-policy.js';

export { isPublicAddress };

export type StoreUrlResult = { ok: true; url: string } | { ok: false; message: string };

export interface StoreUrlOptions {
  /** Development and tests only: allow http://, loopback/private addresses, localhost and single-label hosts. */
  allowPrivate: boolean;
}

const MAX_LENGTH = 255;
const EXAMPLE = 'e.g. https://shop.example.com/';
// Whitespace, controls, invisible/format characters (zero-width, bidi overrides, soft hyphen) and separators:
// WHATWG URL would silently drop or map some of them, so what a person reads would differ from where we connect.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}\s]/u;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const DOT_SEGMENTS = new Set(['.', '..', '%2e', '.%2e', '%2e.', '%2e%2e']);

const fail = (message: string): StoreUrlResult => ({ ok: false, message });

export function parseStoreBaseUrl(raw: string, { allowPrivate }: StoreUrlOptions): StoreUrlResult {
  if (typeof raw !== 'string' || raw.length === 0) {
    return fail(`store_base_url is missing: expected the store's base URL, ${EXAMPLE}`);
  }
  if (raw.length > MAX_LENGTH) return fail(`store_base_url is longer than ${MAX_LENGTH} characters`);
  if (INVISIBLE.test(raw)) {
    return fail('store_base_url must not contain spaces, control characters or invisible characters');
  }
  if (raw.includes('\\')) return fail('store_base_url must not contain backslashes; use / in URLs');

  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) return fail(`store_base_url must be an absolute URL, ${EXAMPLE}`);
  if (scheme !== 'https' && scheme !== 'http') {
    return fail(`store_base_url must be an https:// URL; "${scheme}:" URLs are not accepted`);
  }
  if (raw.slice(scheme.length + 1, scheme.length + 3) !== '//') {
    return fail(`store_base_url must start with ${scheme}:// followed by the host name, ${EXAMPLE}`);
  }
  if (raw.includes('#')) return fail('store_base_url must not contain a fragment (#...); remove it');
  if (raw.includes('?')) return fail('store_base_url must not contain a query string (?...); remove it');

  const rest = raw.slice(scheme.length + 3);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const rawPath = slash === -1 ? '' : rest.slice(slash);
  if (authority.includes('@')) return fail('store_base_url must not contain a user name or password');
  if (rawPath.split('/').some((segment) => DOT_SEGMENTS.has(segment.toLowerCase()))) {
    return fail('store_base_url must not contain "." or ".." path segments');
  }

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(`store_base_url is not a valid URL: check the host name and port, ${EXAMPLE}`);
  }
  if (url.protocol === 'http:' && !allowPrivate) {
    return fail(
      "store_base_url must use https:// (the store's secure base URL); http:// is accepted only when private " +
        'store URLs are allowed (ALLOW_PRIVATE_STORE_URLS, for development)',
    );
  }
  if (url.port === '0') return fail('store_base_url has port 0; use the port the store listens on, or none');

  const hostProblem = checkHost(url.hostname, allowPrivate);
  if (hostProblem) return fail(hostProblem);

  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const normalised = `${url.protocol}//${url.host}${path}`;
  if (normalised.length > MAX_LENGTH) {
    return fail(`store_base_url is longer than ${MAX_LENGTH} characters once normalised`);
  }
  return { ok: true, url: normalised };
}

const NON_PUBLIC_ADDRESS =
  'store_base_url points to a loopback, private, link-local or otherwise non-public address; ' +
  "use the store's public host name";

/** A message when the (WHATWG-normalised) host is not acceptable, else undefined. */
function checkHost(hostname: string, allowPrivate: boolean): string | undefined {
  if (hostname.startsWith('[')) {
    return allowPrivate || isPublicAddress(hostname.slice(1, -1)) ? undefined : NON_PUBLIC_ADDRESS;
  }
  if (isIPv4(hostname)) return allowPrivate || isPublicAddress(hostname) ? undefined : NON_PUBLIC_ADDRESS;

  const bare = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (!allowPrivate && (bare === 'localhost' || bare.endsWith('.localhost'))) {
    return "store_base_url points to localhost; use the store's public host name";
  }
  if (hostname.endsWith('.')) return 'store_base_url host must not end in a dot; remove the trailing "."';
  const labels = hostname.split('.');
  if (hostname.length > 253 || !labels.every((label) => DNS_LABEL.test(label))) {
    return `store_base_url host is not a valid DNS name (letters, digits and hyphens between dots), ${EXAMPLE}`;
  }
  if (labels.length < 2 && !allowPrivate) {
    return `store_base_url host must be a fully qualified domain name, ${EXAMPLE}`;
  }
  return undefined;
}
