// PHP's two orders, reproduced byte for byte: strnatcmp() (Magento 2.4.4–2.4.8-beta1 sort the percent-encoded
// parameter names with it) and ksort() with default flags (2.4.8 GA and later sort the raw names with it).
// src/mock-store/php.ts has its own strnatcmp on purpose: the mock is an independent implementation to test against.

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
