// The orders Magento's verifiers sort the signed parameters in (docs/magento-protocol.md §7a), as sorting functions
// a signing profile picks from:
// - raw names, PHP ksort (byte order, numbers by value): native (2.4.8 GA and later);
// - percent-encoded names, PHP strnatcmp (natural order): laminas (2.4.4–2.4.7), laminas-double-encoding;
// - both at once, for a store whose verifier is not known: the request is refused when the two disagree, because
//   then no signature verifies everywhere.
import { compareUtf8, phpNumericValue, strnatcmp, strnatcmpEncoded } from './php-order.js';
import { SigningError } from './errors.js';

export interface Parameter {
  /** Decoded name: what ksort compares. */
  readonly name: string;
  /** percentEncode(name): what strnatcmp compares and the base string holds. */
  readonly enc: string;
  /** `enc=value` as it goes into the parameter string (the value encoded the way the verifier encodes it). */
  readonly signed: string;
}

/** Sorts `params` in place in a verifier's order, or throws SigningError 'ambiguous_parameter_order'. */
export type ParameterOrder = (params: Parameter[]) => void;

const MAY_BE_NUMERIC = /^[\s+\-.0-9]/;
const BEYOND_SURROGATE_START = /[\uD800-\uFFFF]/;

/**
 * ksort($params) on the raw names: byte by byte (UTF-8), except that two numeric names compare by value. `who` names
 * the verifier in a refusal.
 */
export function ksortOrder(who: string): ParameterOrder {
  return (params) => {
    let wide = false;
    for (const p of params) if (BEYOND_SURROGATE_START.test(p.name)) wide = true;
    // UTF-16 order is UTF-8 byte order unless a surrogate meets U+E000..U+FFFF.
    const bytes = wide
      ? (x: Parameter, y: Parameter) => compareUtf8(x.name, y.name)
      : (x: Parameter, y: Parameter) => (x.name < y.name ? -1 : 1);
    params.sort(bytes);
    if (numericNamesOutOfByteOrder(params)) sortNumericNames(params, bytes, who);
  };
}

/** uksort($params, 'strnatcmp') on the encoded names. Names it calls equal are refused: their order is unknowable. */
export function naturalOrder(who: string): ParameterOrder {
  return (params) => {
    params.sort((x, y) => strnatcmpEncoded(x.enc, y.enc));
    for (let i = 1; i < params.length; i++) {
      if (strnatcmpEncoded(params[i - 1]!.enc, params[i]!.enc) >= 0) throw naturalTie(params[i - 1]!, params[i]!, who);
    }
  };
}

const CURRENT_CODE = 'the current Magento code (ksort)';
const byRawNames = ksortOrder(CURRENT_CODE);

/**
 * The common form: sorted in ksort's order, and refused unless strnatcmp (2.4.4–2.4.7) gives the same order.
 * Checking neighbours is enough: where strnatcmp is inconsistent (non-transitive) over a set of names, some
 * neighbour pair is out of order too, and PHP's own result would then depend on the order Magento inserted the names.
 */
export const everyVerifierOrder: ParameterOrder = (params) => {
  byRawNames(params);
  for (let i = 1; i < params.length; i++) {
    if (strnatcmpEncoded(params[i - 1]!.enc, params[i]!.enc) >= 0) throw orderConflict(params[i - 1]!, params[i]!);
  }
};

// ksort compares two numeric names ("9", "10", "1e1") by value rather than byte by byte. Almost never relevant:
// Magento's own parameters are never numbers.
function numericNamesOutOfByteOrder(sorted: readonly Parameter[]): boolean {
  let previous: number | undefined;
  for (const p of sorted) {
    if (!MAY_BE_NUMERIC.test(p.name)) continue;
    const value = phpNumericValue(p.name);
    if (value === undefined) continue;
    if (previous !== undefined && !(previous < value)) return true;
    previous = value;
  }
  return false;
}

/** ksort's real order when numeric names are involved, or a refusal when that order depends on insertion order. */
function sortNumericNames(params: Parameter[], bytes: (x: Parameter, y: Parameter) => number, who: string): void {
  const value = new Map<Parameter, number | undefined>(params.map((p) => [p, phpNumericValue(p.name)]));
  const ksort = (x: Parameter, y: Parameter): number => {
    const a = value.get(x);
    const b = value.get(y);
    return a !== undefined && b !== undefined ? Math.sign(a - b) : bytes(x, y);
  };
  params.sort(ksort);
  // Mixed comparisons (by value between numbers, by bytes otherwise) need not be transitive, and equal numbers
  // ("1", "01") tie: then PHP's result depends on the order Magento inserted the names in, which no client knows.
  for (let i = 0; i < params.length; i++) {
    for (let j = i + 1; j < params.length; j++) {
      if (ksort(params[i]!, params[j]!) >= 0) {
        throw new SigningError(
          'ambiguous_parameter_order',
          `cannot sign this request: ${who} compares the parameter names that are numbers ` +
            `by value and all others byte by byte, and for ${JSON.stringify(params[i]!.name)} and ` +
            `${JSON.stringify(params[j]!.name)} that gives no consistent order, so the order it signs in cannot be ` +
            `known and the store could answer 401 "The signature is invalid". Use names that are not numbers`,
        );
      }
    }
  }
}

function naturalTie(first: Parameter, second: Parameter, who: string): SigningError {
  return new SigningError(
    'ambiguous_parameter_order',
    `cannot sign this request: the parameters "${first.name}" and "${second.name}" are equal in PHP's natural order ` +
      `(it skips leading zeros and spaces), so the order ${who} sign them in cannot be known and the store could ` +
      `answer 401 "The signature is invalid". Rename one of them`,
  );
}

const DIGITS = /^[0-9]+/;

function orderConflict(first: Parameter, second: Parameter): SigningError {
  // `first` sorts before `second` byte by byte (current Magento); strnatcmp puts it after, or calls them equal.
  const a = first.enc;
  const b = second.enc;
  const natural = strnatcmp(a, b);
  if (natural === 0) return naturalTie(first, second, 'Magento 2.4.4–2.4.7');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  while (i > 0 && /[0-9]/.test(a[i - 1]!)) i--;
  const runA = DIGITS.exec(a.slice(i))?.[0];
  const runB = DIGITS.exec(b.slice(i))?.[0];
  const names = `"${first.name}" and "${second.name}"`;
  const outcome =
    'so no signature is valid on every Magento version and the store would answer 401 "The signature is invalid"';
  if (runA !== undefined && runB !== undefined && runA.length !== runB.length) {
    const [short, long] = runA.length < runB.length ? [runA, runB] : [runB, runA];
    return new SigningError(
      'ambiguous_parameter_order',
      `cannot sign this request: Magento versions order the parameters ${names} differently, ${outcome}. Their ` +
        `digit runs ${runA} and ${runB} have different lengths: 2.4.4–2.4.7 compare them as numbers (${short} ` +
        `before ${long}), the current code character by character (${runA} before ${runB}). Split the ` +
        `request so that every index stays below 10 (e.g. at most 10 filter groups or filters per request), or keep ` +
        `the numbers in these names the same length`,
    );
  }
  const why =
    phpNumericValue(first.name) !== undefined && phpNumericValue(second.name) !== undefined
      ? `Both names are numbers: the current code compares them by value, 2.4.4–2.4.7 in natural order`
      : `2.4.4–2.4.7 compare the percent-encoded names (${a} vs ${b}), the current code the raw names, and the ` +
        `encoding changes their order`;
  return new SigningError(
    'ambiguous_parameter_order',
    `cannot sign this request: Magento versions order the parameters ${names} differently, ${outcome}. ${why}. ` +
      `Rename one of them`,
  );
}
