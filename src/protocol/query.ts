// Query strings the way Magento (PHP) reads them: RFC 3986 percent-encoding, PHP-style bracketed names built from
// nested objects, and a strict reader for a caller's application/x-www-form-urlencoded query. No I/O here.
import { QueryError } from './errors.js';

/** One decoded parameter: `name` as PHP sees it after decoding (`searchCriteria[pageSize]`), `value` decoded. */
export type QueryPair = readonly [name: string, value: string];

export type QueryScalar = string | number | bigint | boolean | null | undefined;
export type QueryValue = QueryScalar | readonly QueryValue[] | { readonly [key: string]: QueryValue };
export type QueryObject = { readonly [key: string]: QueryValue };
/** A nested object (PHP-style brackets are derived from it) or a flat list of already-decoded [name, value] pairs. */
export type QueryInput = QueryObject | readonly QueryPair[];

// ---------------------------------------------------------------------------------------------------------------
// Percent-encoding

const UNRESERVED = /^[A-Za-z0-9._~-]*$/;
const SUB_DELIMS_LEFT = /[!'()*]/g;

/**
 * RFC 3986 percent-encoding of the UTF-8 bytes of `s`: everything but `A-Z a-z 0-9 - . _ ~` becomes `%XX` (upper-case
 * hex), so a space is `%20`, `+` `%2B`, `=` `%3D`, `&` `%26`. This is PHP's rawurlencode(), which Magento applies to
 * every name and value of the base string. Throws QueryError('invalid_unicode') for a lone UTF-16 surrogate, which has
 * no UTF-8 form.
 */
export function percentEncode(s: string): string {
  if (UNRESERVED.test(s)) return s;
  let encoded: string;
  try {
    encoded = encodeURIComponent(s);
  } catch (cause) {
    throw new QueryError(
      'invalid_unicode',
      `${JSON.stringify(s)} contains a lone UTF-16 surrogate, which has no UTF-8 form; fix the text before sending it`,
      { cause },
    );
  }
  // encodeURIComponent leaves five sub-delimiters alone that RFC 3986 (and rawurlencode) encode.
  return encoded.replace(SUB_DELIMS_LEFT, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

const NAME_SAFE = /^[A-Za-z0-9._~[\]-]*$/;

/**
 * A parameter name as it goes into the URL: percent-encoded, except `[` and `]`, which stay raw
 * (`searchCriteria[filter_groups][0][filters][0][field]`). PHP decodes either spelling to the same name, and the raw
 * one is what Magento's docs, logs and every other client use.
 */
export function encodeQueryName(name: string): string {
  if (NAME_SAFE.test(name)) return name;
  const encoded = percentEncode(name);
  return encoded.includes('%5') ? encoded.replace(/%5B/g, '[').replace(/%5D/g, ']') : encoded;
}

/** `name=value&...` in the given order: names by encodeQueryName, values by percentEncode. */
export function buildQueryString(pairs: readonly QueryPair[]): string {
  let out = '';
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    out += (i === 0 ? '' : '&') + encodeQueryName(name) + '=' + percentEncode(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Nested objects -> PHP bracketed names

/**
 * Flattens parameters to decoded [name, value] pairs, in order.
 *
 * - A nested object becomes PHP bracketed names: `{searchCriteria: {filter_groups: [{filters: [{field: 'sku'}]}]}}`
 *   -> `searchCriteria[filter_groups][0][filters][0][field]=sku`. Array items are indexed from 0 by position.
 * - Strings are taken as they are; numbers must be finite and are written as JavaScript prints them (`9.5`, `10`);
 *   bigints in decimal; booleans as `1` / `0`, what PHP's http_build_query writes and what PHP reads back as
 *   true/false (PHP reads the string `false` as true).
 * - null and undefined (and array holes) are omitted, as are empty objects and arrays: PHP cannot express them in a
 *   query string.
 * - A flat list of [name, value] pairs is passed through as it is (values must be strings).
 * - Anything else (Date, Map, class instances, functions, symbols) is refused: format it to a string first.
 * Duplicate names are not checked here; the signer refuses them across the URL's query, `query` and `form` together.
 */
export function flattenQuery(input: QueryInput): QueryPair[] {
  if (Array.isArray(input)) {
    const pairs = input as readonly QueryPair[];
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new QueryError(
          'unsupported_value',
          `query pairs must be [name, value] arrays of two strings; got ${describe(pair)}`,
        );
      }
    }
    return pairs.slice();
  }
  if (!isPlainObject(input)) {
    throw new QueryError('unsupported_value', `query parameters must be a plain object or [name, value] pairs; got ${describe(input)}`);
  }
  const out: QueryPair[] = [];
  for (const key of Object.keys(input)) addValue(out, key, (input as QueryObject)[key]);
  return out;
}

function addValue(out: QueryPair[], name: string, value: QueryValue): void {
  if (value === null || value === undefined) return;
  switch (typeof value) {
    case 'string':
      out.push([name, value]);
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new QueryError('unsupported_value', `${name} is ${value}; only finite numbers can be sent`);
      }
      out.push([name, String(value)]);
      return;
    case 'bigint':
      out.push([name, value.toString()]);
      return;
    case 'boolean':
      out.push([name, value ? '1' : '0']);
      return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) addValue(out, `${name}[${i}]`, value[i] as QueryValue);
    return;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (key.includes('[') || key.includes(']')) {
        // `{a: {'b][c': 1}}` would spell a[b][c]: a different structure from the one written.
        throw new QueryError('invalid_parameter_name', `the key ${JSON.stringify(key)} inside ${name} contains [ or ]; nest objects instead`);
      }
      addValue(out, `${name}[${key}]`, (value as QueryObject)[key]);
    }
    return;
  }
  throw new QueryError(
    'unsupported_value',
    `${name} is ${describe(value)}; pass a string, number, boolean, array or plain object (format dates as strings, ` +
      `e.g. "2024-10-25 00:00:00")`,
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return `a ${(v as object).constructor?.name ?? 'object'}`;
  return `a ${typeof v}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading a caller's query

const PERCENT_NOT_HEX = /%(?![0-9A-Fa-f]{2})/;

function decodeFormComponent(s: string, raw: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  const spaced = s.replace(/\+/g, ' ');
  if (PERCENT_NOT_HEX.test(spaced)) {
    throw new QueryError('malformed_percent_encoding', `${JSON.stringify(raw)} has a % that is not followed by two hex digits; write a literal % as %25`);
  }
  try {
    return decodeURIComponent(spaced);
  } catch (cause) {
    throw new QueryError('malformed_percent_encoding', `${JSON.stringify(raw)} percent-encodes bytes that are not UTF-8 text`, { cause });
  }
}

/**
 * Reads a raw query string (the part after `?`, or a form body) as application/x-www-form-urlencoded: `+` is a space,
 * `%2B` a plus, `%XX` UTF-8 bytes. Returns the decoded [name, value] pairs in order; the value is everything after the
 * first `=`. Empty segments (`a=1&&b=2`, a trailing `&`) carry nothing and are skipped.
 *
 * Refuses (QueryError) what Magento cannot verify: a name given twice (PHP keeps only the last one, so the caller's
 * meaning is lost), a segment without `=` (Magento leaves it out of the signature on some versions and not on
 * others), a `%` not followed by two hex digits, and percent-encoded bytes that are not UTF-8.
 */
export function parseFormEncoded(raw: string): QueryPair[] {
  const out: QueryPair[] = [];
  if (raw === '') return out;
  const seen = new Set<string>();
  for (const segment of raw.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    if (eq === -1) {
      throw new QueryError(
        'parameter_without_value',
        `query parameter ${JSON.stringify(segment)} has no "="; Magento cannot verify a signature over it. Write ${segment}= for an empty value`,
      );
    }
    const name = decodeFormComponent(segment.slice(0, eq), segment);
    const value = decodeFormComponent(segment.slice(eq + 1), segment);
    if (seen.has(name)) {
      throw new QueryError(
        'duplicate_parameter',
        `query parameter ${JSON.stringify(name)} is given more than once; PHP keeps only the last one. Send it once ` +
          `(for a list, use indexed names: ${name}[0]=...&${name}[1]=...)`,
      );
    }
    seen.add(name);
    out.push([name, value]);
  }
  return out;
}
