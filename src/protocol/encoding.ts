// How Magento (PHP) reads and orders request parameters, reproduced exactly so that what we sign is what it verifies:
// RFC 3986 percent-encoding, PHP-style bracketed query names built from nested objects, a strict reader for a
// caller's application/x-www-form-urlencoded query, and the two orders Magento versions sort parameters in
// (PHP's strnatcmp on encoded names, ksort on raw names). No I/O here.
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

// ---------------------------------------------------------------------------------------------------------------
// Which names PHP reads back as written

const PROTOCOL_NAME = /oauth_[a-z_-]+/; // Magento's Request::_isProtocolParameter(), matched anywhere in the name
const BRACKETED = /^[^[\]]+(?:\[[^[\]]*\])+$/;

/**
 * Throws QueryError unless PHP (parse_str, $_GET) and every Magento version read `name` back as this very name:
 * - not empty;
 * - no `oauth_...` anywhere in it: Magento 2.4.4–2.4.7 drop such query parameters from the signature, the current code
 *   keeps them, so no signature satisfies both;
 * - brackets well formed (`a[b][0]`, `a[]`): parse_str turns a stray `[` into `_` and ignores text after the last `]`;
 * - no space or `.` before the first `[`: parse_str turns them into `_` (and the current Magento code then signs both
 *   spellings);
 * - not an integer before the first `[` ("9", "-1"): PHP stores it as an integer key, which the current Magento code
 *   renumbers when it merges the query into the parameters;
 * - in a form body, no brackets at all: Magento reads the body with parse_str, gets an array, and cannot sign it.
 */
export function assertReadableName(name: string, where: 'query' | 'form'): void {
  if (name === '') {
    throw new QueryError('invalid_parameter_name', `a ${where} parameter has an empty name; give it a name or leave it out`);
  }
  if (PROTOCOL_NAME.test(name)) {
    throw new QueryError(
      'reserved_parameter_name',
      `${where} parameter ${JSON.stringify(name)} looks like an OAuth protocol parameter (oauth_...); Magento versions ` +
        `disagree on whether to sign it, so it cannot be sent. Rename it`,
    );
  }
  const bracket = name.indexOf('[');
  if (bracket !== -1 || name.includes(']')) {
    if (where === 'form') {
      throw new QueryError(
        'invalid_parameter_name',
        `form field ${JSON.stringify(name)} has brackets; Magento reads form bodies into nested arrays it cannot sign. ` +
          `Send nested data as JSON, or as a query parameter`,
      );
    }
    if (bracket !== -1 && !BRACKETED.test(name)) {
      throw new QueryError(
        'invalid_parameter_name',
        `query parameter ${JSON.stringify(name)} has unbalanced brackets or text after the last "]"; PHP would read ` +
          `it as a different name. Use the form name[key][key]`,
      );
    }
  }
  const base = bracket === -1 ? name : name.slice(0, bracket);
  if (isPhpIntegerKey(base)) {
    throw new QueryError(
      'invalid_parameter_name',
      `${where} parameter ${JSON.stringify(name)} is named with an integer; PHP makes that an integer array key, which ` +
        `the current Magento code renumbers (array_merge) before signing. Use a name that is not a number`,
    );
  }
  if (base.includes(' ') || base.includes('.')) {
    throw new QueryError(
      'invalid_parameter_name',
      `${where} parameter ${JSON.stringify(name)} has a space or "." in its name; PHP turns those into "_", so Magento ` +
        `would read (and sign) a different name. Rename it`,
    );
  }
}

const PHP_INT_MAX = 9223372036854775807n;

/** Whether PHP turns the array key `s` into an integer: canonical decimal within the 64-bit range ("-0" stays a string). */
function isPhpIntegerKey(s: string): boolean {
  if (!/^(?:0|-?[1-9][0-9]*)$/.test(s)) return false;
  const n = BigInt(s);
  return n <= PHP_INT_MAX && n >= -PHP_INT_MAX - 1n;
}

// ---------------------------------------------------------------------------------------------------------------
// The two orders

/**
 * PHP's strnatcmp() (ext/standard/strnatcmp.c, strnatcmp_ex as in PHP 8), compared on the UTF-8 bytes:
 * - runs of digits compare as numbers ("img2" < "img10"); when either run starts with `0` they compare digit by digit
 *   from the left instead ("fractional" mode: "a05" < "a5", "x01" < "x1");
 * - leading zeros of the whole string are skipped ("007" equals "7"), but only at its very start;
 * - whitespace (C isspace) before a character is skipped;
 * - otherwise bytes compare as unsigned values; a string that is a prefix of the other sorts first.
 * Returns -1, 0 or 1. Magento 2.4.4–2.4.7 sort the percent-encoded parameter names with it.
 */
export function strnatcmp(a: string, b: string): -1 | 0 | 1 {
  return natCompare(toByteString(a), toByteString(b), 0, true);
}

const NON_ASCII = /[^\x00-\x7f]/;

/** A string whose char codes are the UTF-8 bytes of `s` (identity for ASCII, the common case). */
function toByteString(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
// C isspace in the "C" locale: space, \t \n \v \f \r.
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
// PHP strings are NUL-terminated; the C code reads that NUL at the end of a string, so do we.
const at = (s: string, i: number): number => (i < s.length ? s.charCodeAt(i) : 0);

/**
 * strnatcmp_ex from position `start` of both strings. `leading` says whether the leading-zero rule applies (only
 * when starting at 0). Pointers are indexes; `ap` may run to a.length (the NUL) like the C pointers.
 */
function natCompare(a: string, b: string, start: number, leading: boolean): -1 | 0 | 1 {
  const aEnd = a.length;
  const bEnd = b.length;
  if (aEnd === 0 || bEnd === 0) return aEnd === bEnd ? 0 : aEnd > bEnd ? 1 : -1;
  let ap = start;
  let bp = start;
  for (;;) {
    let ca = at(a, ap);
    let cb = at(b, bp);

    // Skip over leading zeros (of the whole string only).
    while (leading && ca === 0x30 && ap + 1 < aEnd && isDigit(a.charCodeAt(ap + 1))) ca = at(a, ++ap);
    while (leading && cb === 0x30 && bp + 1 < bEnd && isDigit(b.charCodeAt(bp + 1))) cb = at(b, ++bp);
    leading = false;

    // Skip consecutive whitespace.
    while (isSpace(ca)) ca = at(a, ++ap);
    while (isSpace(cb)) cb = at(b, ++bp);

    // Process a run of digits.
    if (isDigit(ca) && isDigit(cb)) {
      const fractional = ca === 0x30 || cb === 0x30;
      let result = 0;
      if (fractional) {
        // compare_left: left-aligned, the first different digit wins.
        for (;; ap++, bp++) {
          const da = ap < aEnd && isDigit(a.charCodeAt(ap));
          const db = bp < bEnd && isDigit(b.charCodeAt(bp));
          if (!da && !db) break;
          if (!da) { result = -1; break; }
          if (!db) { result = 1; break; }
          const x = a.charCodeAt(ap);
          const y = b.charCodeAt(bp);
          if (x < y) { result = -1; break; }
          if (x > y) { result = 1; break; }
        }
      } else {
        // compare_right: the longest run wins; at equal length the first different digit (the bias) decides.
        let bias = 0;
        for (;; ap++, bp++) {
          const da = ap < aEnd && isDigit(a.charCodeAt(ap));
          const db = bp < bEnd && isDigit(b.charCodeAt(bp));
          if (!da && !db) { result = bias; break; }
          if (!da) { result = -1; break; }
          if (!db) { result = 1; break; }
          const x = a.charCodeAt(ap);
          const y = b.charCodeAt(bp);
          if (x < y) { if (bias === 0) bias = -1; }
          else if (x > y) { if (bias === 0) bias = 1; }
        }
      }
      if (result !== 0) return result as -1 | 1;
      if (ap === aEnd && bp === bEnd) return 0;
      if (ap === aEnd) return -1;
      if (bp === bEnd) return 1;
      ca = a.charCodeAt(ap);
      cb = b.charCodeAt(bp);
    }

    if (ca < cb) return -1;
    if (ca > cb) return 1;

    ++ap;
    ++bp;
    if (ap >= aEnd && bp >= bEnd) return 0;
    if (ap >= aEnd) return -1;
    if (bp >= bEnd) return 1;
  }
}

/**
 * strnatcmp() for the signer's hot path, for ASCII strings without whitespace (percent-encoded names): the C loop
 * then walks both strings in lockstep through their common prefix unless one starts with `0` (the leading-zero rule),
 * so it may start where they first differ, backed up to the start of the digit run around that point.
 */
export function strnatcmpEncoded(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  if (a.charCodeAt(0) === 0x30 || b.charCodeAt(0) === 0x30) return natCompare(a, b, 0, true);
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // One is a prefix of the other, not ending inside a digit run: the C loop's end-of-string check decides.
  if (i === n && !isDigit(a.charCodeAt(i - 1))) return a.length < b.length ? -1 : 1;
  while (i > 0 && isDigit(a.charCodeAt(i - 1))) i--;
  return i === 0 ? natCompare(a, b, 0, true) : natCompare(a, b, i, false);
}

const PHP_NUMERIC = /^[ \t\n\r\v\f]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\n\r\v\f]*$/;

/** The number PHP 8 reads from a numeric string ("10", " 1.5", "1e3"), or undefined when it is not one. */
export function phpNumericValue(s: string): number | undefined {
  return PHP_NUMERIC.test(s) ? Number(s.trim()) : undefined;
}

/**
 * The order of PHP's ksort($params) with default flags, the current Magento code's order of raw parameter names:
 * two numeric strings (see phpNumericValue; integer-like names are even stored as integer keys) compare as numbers,
 * anything else byte by byte on UTF-8 (shorter prefix first). Returns 0 for distinct names only when both are the
 * same number ("1" and "01"): PHP's order then depends on insertion order, which we cannot know.
 */
export function ksortCompare(a: string, b: string): -1 | 0 | 1 {
  const x = phpNumericValue(a);
  if (x !== undefined) {
    const y = phpNumericValue(b);
    if (y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
  }
  return compareUtf8(a, b);
}

/** Byte order of the UTF-8 encodings, computed on UTF-16 (they differ only for surrogates vs U+E000..U+FFFF). */
export function compareUtf8(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (astral code points, 4 UTF-8 bytes) sort after U+E000..U+FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}
