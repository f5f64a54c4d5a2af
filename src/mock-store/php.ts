// Small ports of the PHP functions whose exact behaviour Magento's OAuth verification depends on.
//
// Strings here are "byte strings": one JS char per byte (latin1), the way Node hands us header values and the
// request target, so that percent-decoding and re-encoding reproduce PHP's byte-level results exactly, invalid
// UTF-8 included. Convert with `bytesToUtf8` at the edges.

export const bytesToUtf8 = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');

const HEX = '0123456789ABCDEF';
const hexByte = (code: number): string => '%' + HEX[code >> 4] + HEX[code & 15];

/** PHP rawurlencode: everything but A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex). */
export function rawurlencode(bytes: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i) & 0xff;
    out += /[A-Za-z0-9\-_.~]/.test(bytes[i]!) ? bytes[i] : hexByte(c);
  }
  return out;
}

/** PHP urlencode: like rawurlencode but a space is `+` and `~` is encoded (http_build_query uses it). */
export function urlencode(bytes: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i]!;
    if (ch === ' ') out += '+';
    else if (/[A-Za-z0-9\-_.]/.test(ch)) out += ch;
    else out += hexByte(bytes.charCodeAt(i) & 0xff);
  }
  return out;
}

/** PHP rawurldecode: %XX (either case) becomes the byte; everything else, `+` included, stays. */
export const rawurldecode = (s: string): string =>
  s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

/** PHP urldecode: rawurldecode plus `+` as a space. */
export const urldecode = (s: string): string => rawurldecode(s.replace(/\+/g, ' '));

/** PHP http_build_query for flat byte-string values (arg separator `&`, urlencode). */
export const httpBuildQuery = (fields: Record<string, string>): string =>
  Object.entries(fields)
    .map(([k, v]) => `${urlencode(k)}=${urlencode(v)}`)
    .join('&');

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 48 && c <= 57;
const isSpace = (c: number | undefined): boolean => c !== undefined && (c === 32 || (c >= 9 && c <= 13));

/**
 * PHP 8 strnatcmp (ext/standard/strnatcmp.c, strnatcmp_ex without case folding): digit runs compare by value
 * (longest run wins, unless one starts with 0: then left-aligned), leading zeros of the whole string skipped.
 */
export function strnatcmp(a: string, b: string): number {
  const aLen = a.length;
  const bLen = b.length;
  if (aLen === 0 || bLen === 0) return aLen === bLen ? 0 : aLen > bLen ? 1 : -1;
  const at = (s: string, i: number): number | undefined => (i < s.length ? s.charCodeAt(i) : undefined);
  let ap = 0;
  let bp = 0;
  let leading = true;
  for (;;) {
    let ca = at(a, ap);
    let cb = at(b, bp);
    while (leading && ca === 48 && ap + 1 < aLen && isDigit(at(a, ap + 1))) ca = at(a, ++ap);
    while (leading && cb === 48 && bp + 1 < bLen && isDigit(at(b, bp + 1))) cb = at(b, ++bp);
    leading = false;
    while (isSpace(ca)) ca = at(a, ++ap);
    while (isSpace(cb)) cb = at(b, ++bp);

    if (isDigit(ca) && isDigit(cb)) {
      const fractional = ca === 48 || cb === 48;
      const run = fractional ? compareLeft(a, ap, b, bp) : compareRight(a, ap, b, bp);
      ap = run.ap;
      bp = run.bp;
      if (run.result !== 0) return run.result;
      if (ap === aLen && bp === bLen) return 0;
      if (ap === aLen) return -1;
      if (bp === bLen) return 1;
      ca = at(a, ap);
      cb = at(b, bp);
    }
    // Past the end C reads the terminating NUL; undefined plays that part here.
    const va = ca ?? 0;
    const vb = cb ?? 0;
    if (va < vb) return -1;
    if (va > vb) return 1;
    ap++;
    bp++;
    if (ap >= aLen && bp >= bLen) return 0;
    if (ap >= aLen) return -1;
    if (bp >= bLen) return 1;
  }
}

interface Run {
  result: number;
  ap: number;
  bp: number;
}

function compareRight(a: string, ap: number, b: string, bp: number): Run {
  let bias = 0;
  for (; ; ap++, bp++) {
    const da = ap < a.length && isDigit(a.charCodeAt(ap));
    const db = bp < b.length && isDigit(b.charCodeAt(bp));
    if (!da && !db) return { result: bias, ap, bp };
    if (!da) return { result: -1, ap, bp };
    if (!db) return { result: 1, ap, bp };
    const x = a.charCodeAt(ap);
    const y = b.charCodeAt(bp);
    if (x < y && !bias) bias = -1;
    else if (x > y && !bias) bias = 1;
  }
}

function compareLeft(a: string, ap: number, b: string, bp: number): Run {
  for (; ; ap++, bp++) {
    const da = ap < a.length && isDigit(a.charCodeAt(ap));
    const db = bp < b.length && isDigit(b.charCodeAt(bp));
    if (!da && !db) return { result: 0, ap, bp };
    if (!da) return { result: -1, ap, bp };
    if (!db) return { result: 1, ap, bp };
    const x = a.charCodeAt(ap);
    const y = b.charCodeAt(bp);
    if (x < y) return { result: -1, ap, bp };
    if (x > y) return { result: 1, ap, bp };
  }
}

/** PHP `(int)$string`: leading whitespace, then the longest numeric prefix (exponent allowed), truncated. */
export function phpIntCast(s: string): number {
  const m = /^[ \t\n\r\v\f]*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)/.exec(s);
  if (!m) return 0;
  const n = Math.trunc(Number(m[1]));
  return Number.isFinite(n) ? n : 0;
}

/** A PHP array as parse_str builds it: insertion-ordered, string keys (integer-like keys normalised). */
export type PhpValue = string | PhpArray;
export type PhpArray = Map<string, PhpValue>;

const MAX_NESTING = 64; // max_input_nesting_level

function nextIndex(arr: PhpArray): string {
  let max = -1;
  for (const k of arr.keys()) if (/^(0|-?[1-9]\d*)$/.test(k)) max = Math.max(max, Number(k));
  return String(max + 1);
}

/**
 * PHP parse_str / $_GET parsing (main/php_variables.c): `&`-separated pairs, urldecode (`+` is a space), a name
 * without `=` gets '', `.` and space in the top-level name become `_`, `a[b][]` builds nested arrays, later
 * duplicates overwrite. Works on byte strings.
 */
export function parseStr(input: string): PhpArray {
  const result: PhpArray = new Map();
  for (const pair of input.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : urldecode(pair.slice(eq + 1));
    registerVariable(result, urldecode(rawName), value);
  }
  return result;
}

function registerVariable(target: PhpArray, name: string, value: string): void {
  name = name.replace(/^ +/, '');
  let i = 0;
  let base = '';
  let isArray = false;
  for (; i < name.length; i++) {
    const ch = name[i]!;
    if (ch === '[') {
      isArray = true;
      break;
    }
    base += ch === ' ' || ch === '.' ? '_' : ch;
  }
  if (base === '') return;
  const indexes: (string | null)[] = [];
  if (isArray) {
    let rest = name.slice(i);
    let depth = 0;
    while (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close === -1) {
        // Not an index: the `[` becomes `_` and the rest is part of the plain name (only for the first one).
        if (indexes.length === 0) base = base + '_' + rest.slice(1).replace(/[ .[]/g, '_');
        break;
      }
      if (++depth > MAX_NESTING) return;
      const idx = rest.slice(1, close);
      indexes.push(idx === '' ? null : idx);
      rest = rest.slice(close + 1);
      if (!rest.startsWith('[')) break;
    }
  }
  let cur = target;
  let key = base;
  for (const idx of indexes) {
    let next = cur.get(key);
    if (!(next instanceof Map)) {
      next = new Map();
      cur.set(key, next);
    }
    cur = next;
    key = idx ?? nextIndex(cur);
  }
  cur.set(key, value);
}

/** A PHP array as plain JS (maps to objects), for handlers that read parsed query data. */
export function phpToJs(v: PhpValue): unknown {
  if (typeof v === 'string') return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of v) o[k] = phpToJs(x);
  return o;
}

/**
 * PHP json_encode with default flags, as Magento's REST renderer calls it: `/` escaped as `\/`, non-ASCII as
 * \uXXXX escapes.
 */
export function phpJsonEncode(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  return json.replace(/[\u0080-\uffff]|\//g, (ch) =>
    ch === '/' ? '\\/' : '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}
