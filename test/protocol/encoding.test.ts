import test from 'ava';
import { assertReadableName } from '../../src/protocol/parameter-names.js';
import { compareUtf8, ksortCompare, phpNumericValue, strnatcmp, strnatcmpEncoded } from '../../src/protocol/php-order.js';
import {
  buildQueryString,
  encodeQueryName,
  flattenQuery,
  parseFormEncoded,
  percentEncode,
  type QueryInput,
} from '../../src/protocol/query.js';
import { QueryError } from '../../src/protocol/errors.js';

const queryError = (t: import('ava').ExecutionContext, fn: () => unknown, code: QueryError['code']): QueryError => {
  const error = t.throws(fn, { instanceOf: QueryError });
  t.is(error?.code, code);
  return error as QueryError;
};

// ---- percent-encoding -------------------------------------------------------------------------------------------

test('percentEncode leaves exactly the RFC 3986 unreserved characters alone', (t) => {
  t.is(percentEncode('AZaz09-._~'), 'AZaz09-._~');
  t.is(percentEncode(''), '');
});

test('percentEncode: space %20, plus %2B, = %3D, & %26, colon, slash, sub-delimiters', (t) => {
  t.is(percentEncode('a b+c=d&e'), 'a%20b%2Bc%3Dd%26e');
  t.is(percentEncode('2024-10-25 00:00:00'), '2024-10-25%2000%3A00%3A00');
  t.is(percentEncode('a/b?c#d'), 'a%2Fb%3Fc%23d');
  t.is(percentEncode("!*'()"), '%21%2A%27%28%29');
  t.is(percentEncode('[]%'), '%5B%5D%25');
});

test('percentEncode: unicode as UTF-8 bytes, upper-case hex', (t) => {
  t.is(percentEncode('é€😀'), '%C3%A9%E2%82%AC%F0%9F%98%80');
});

test('percentEncode refuses a lone surrogate', (t) => {
  queryError(t, () => percentEncode('a\uD800b'), 'invalid_unicode');
});

test('encodeQueryName keeps brackets raw and encodes the rest', (t) => {
  t.is(encodeQueryName('searchCriteria[filter_groups][0][filters][0][field]'), 'searchCriteria[filter_groups][0][filters][0][field]');
  t.is(encodeQueryName('a b[c+d]'), 'a%20b[c%2Bd]');
  t.is(encodeQueryName('x[é]'), 'x[%C3%A9]');
});

// ---- nested objects -----------------------------------------------------------------------------------------------

test('flattenQuery builds PHP bracketed names in order (the issue example)', (t) => {
  const input = {
    searchCriteria: {
      filter_groups: [{ filters: [{ field: 'sku', value: '24-MB01', condition_type: 'eq' }] }],
      pageSize: 10,
    },
  };
  t.deepEqual(flattenQuery(input), [
    ['searchCriteria[filter_groups][0][filters][0][field]', 'sku'],
    ['searchCriteria[filter_groups][0][filters][0][value]', '24-MB01'],
    ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'eq'],
    ['searchCriteria[pageSize]', '10'],
  ]);
  t.is(
    buildQueryString(flattenQuery(input)),
    'searchCriteria[filter_groups][0][filters][0][field]=sku&searchCriteria[filter_groups][0][filters][0][value]=24-MB01' +
      '&searchCriteria[filter_groups][0][filters][0][condition_type]=eq&searchCriteria[pageSize]=10',
  );
});

test('flattenQuery: values with space, colon, plus, ampersand, equals and unicode are encoded in the query', (t) => {
  t.is(buildQueryString(flattenQuery({ q: 'a b:c+d&e=f é' })), 'q=a%20b%3Ac%2Bd%26e%3Df%20%C3%A9');
});

test('flattenQuery: booleans 1/0, numbers, bigint; null, undefined, holes and empty containers omitted', (t) => {
  const sparse: (string | undefined)[] = ['a'];
  sparse[2] = 'c';
  t.deepEqual(
    flattenQuery({
      yes: true,
      no: false,
      n: 9.5,
      zero: -0,
      big: 12345678901234567890n,
      none: null,
      missing: undefined,
      list: [1, null, 'x'],
      sparse,
      empty: [],
      emptyObject: {},
    }),
    [
      ['yes', '1'],
      ['no', '0'],
      ['n', '9.5'],
      ['zero', '0'],
      ['big', '12345678901234567890'],
      ['list[0]', '1'],
      ['list[2]', 'x'],
      ['sparse[0]', 'a'],
      ['sparse[2]', 'c'],
    ],
  );
});

test('flattenQuery passes [name, value] pairs through unchanged', (t) => {
  const pairs = [['searchCriteria[pageSize]', '10'], ['q', 'a+b']] as const;
  t.deepEqual(flattenQuery(pairs), [['searchCriteria[pageSize]', '10'], ['q', 'a+b']]);
});

test('flattenQuery refuses values PHP cannot read back', (t) => {
  queryError(t, () => flattenQuery({ when: new Date(0) } as unknown as QueryInput), 'unsupported_value');
  queryError(t, () => flattenQuery({ n: Number.NaN }), 'unsupported_value');
  queryError(t, () => flattenQuery({ n: Number.POSITIVE_INFINITY }), 'unsupported_value');
  queryError(t, () => flattenQuery({ a: { 'b][c': 1 } }), 'invalid_parameter_name');
  queryError(t, () => flattenQuery([['a', 1]] as unknown as QueryInput), 'unsupported_value');
  const error = queryError(t, () => flattenQuery({ when: new Date(0) } as unknown as QueryInput), 'unsupported_value');
  t.is(
    error.message,
    'when is a Date; pass a string, number, boolean, array or plain object (format dates as strings, e.g. "2024-10-25 00:00:00")',
  );
});

// ---- reading a caller's query ---------------------------------------------------------------------------------------

test('parseFormEncoded: + is a space, %2B a plus, names decoded, value is everything after the first =', (t) => {
  t.deepEqual(parseFormEncoded('q=a+b%2Bc&searchCriteria%5BpageSize%5D=10&x=1=2&e=&u=%C3%A9'), [
    ['q', 'a b+c'],
    ['searchCriteria[pageSize]', '10'],
    ['x', '1=2'],
    ['e', ''],
    ['u', 'é'],
  ]);
});

test('parseFormEncoded skips empty segments', (t) => {
  t.deepEqual(parseFormEncoded(''), []);
  t.deepEqual(parseFormEncoded('a=1&&b=2&'), [['a', '1'], ['b', '2']]);
});

test('parseFormEncoded refuses a repeated name, also when spelled differently', (t) => {
  const error = queryError(t, () => parseFormEncoded('a=1&b=2&a=3'), 'duplicate_parameter');
  t.is(
    error.message,
    'query parameter "a" is given more than once; PHP keeps only the last one. Send it once (for a list, use indexed names: a[0]=...&a[1]=...)',
  );
  queryError(t, () => parseFormEncoded('a%5B0%5D=1&a[0]=2'), 'duplicate_parameter');
});

test('parseFormEncoded refuses a name without =', (t) => {
  const error = queryError(t, () => parseFormEncoded('a=1&flag'), 'parameter_without_value');
  t.is(error.message, 'query parameter "flag" has no "="; Magento cannot verify a signature over it. Write flag= for an empty value');
});

test('parseFormEncoded refuses malformed percent-encoding and non-UTF-8 bytes', (t) => {
  queryError(t, () => parseFormEncoded('a=%zz'), 'malformed_percent_encoding');
  queryError(t, () => parseFormEncoded('a=%4'), 'malformed_percent_encoding');
  queryError(t, () => parseFormEncoded('a=100%'), 'malformed_percent_encoding');
  queryError(t, () => parseFormEncoded('a%=1'), 'malformed_percent_encoding');
  queryError(t, () => parseFormEncoded('a=%FF'), 'malformed_percent_encoding');
});

// ---- names PHP reads back as written --------------------------------------------------------------------------------

test('assertReadableName accepts plain and well-formed bracketed names', (t) => {
  t.notThrows(() => assertReadableName('searchCriteria[filter_groups][0][filters][0][field]', 'query'));
  t.notThrows(() => assertReadableName('ids[]', 'query'));
  t.notThrows(() => assertReadableName('fields', 'form'));
  t.notThrows(() => assertReadableName('a[b.c d]', 'query'));
});

test('assertReadableName refuses names PHP or Magento would read differently', (t) => {
  queryError(t, () => assertReadableName('', 'query'), 'invalid_parameter_name');
  queryError(t, () => assertReadableName('oauth_token', 'query'), 'reserved_parameter_name');
  queryError(t, () => assertReadableName('xoauth_callback', 'query'), 'reserved_parameter_name');
  queryError(t, () => assertReadableName('a[oauth_x]', 'query'), 'reserved_parameter_name');
  queryError(t, () => assertReadableName('a[b', 'query'), 'invalid_parameter_name');
  queryError(t, () => assertReadableName('a[b]c', 'query'), 'invalid_parameter_name');
  queryError(t, () => assertReadableName('a.b', 'query'), 'invalid_parameter_name');
  queryError(t, () => assertReadableName('a b[c]', 'query'), 'invalid_parameter_name');
  const error = queryError(t, () => assertReadableName('a[b]', 'form'), 'invalid_parameter_name');
  t.is(
    error.message,
    'form field "a[b]" has brackets; Magento reads form bodies into nested arrays it cannot sign. Send nested data as JSON, or as a query parameter',
  );
});

// ---- strnatcmp, checked against PHP 8.2's strnatcmp() ---------------------------------------------------------------

// [a, b, what PHP 8.2 returns (sign)], produced by php -r 'echo strnatcmp($a, $b);'.
const PHP_STRNATCMP: ReadonlyArray<readonly [string, string, -1 | 0 | 1]> = [
  ['img12', 'img10', 1],
  ['img2', 'img10', -1],
  ['a05', 'a5', -1], // a run starting with 0 compares left-aligned ("fractional")
  ['x01', 'x1', -1],
  ['x9', 'x09', 1],
  ['x1y', 'x01y', 1],
  ['007', '7', 0], // leading zeros of the whole string are skipped
  ['0001', '01', 0],
  ['0', '00', 0],
  ['0a', '00a', 0],
  ['a 1', 'a1', 0], // whitespace is skipped
  [' a', 'a', 0],
  ['a\t\t1', 'a 1', 0],
  ['1 2', '12', -1],
  ['pic 5', 'pic05', 1],
  ['abc', 'abd', -1],
  ['ab', 'abc', -1],
  ['', 'a', -1],
  ['a', '', 1],
  ['', '', 0],
  ['A', 'a', -1],
  ['a2b', 'a10a', -1],
  ['a1b2', 'a1b10', -1],
  ['x2-g8', 'x2-y7', -1],
  ['1.10', '1.5', 1],
  ['10', '9', 1],
  ['é', 'z', 1], // bytes: 0xC3 > 'z'
  ['%5B2%5D', '%5B10%5D', -1],
  ['%5B1%5D', '%5B10%5D', -1],
  ['%5B02%5D', '%5B10%5D', -1],
  ['%5B0%5D', '%5B00%5D', -1],
];

test('strnatcmp matches PHP 8.2 strnatcmp()', (t) => {
  for (const [a, b, expected] of PHP_STRNATCMP) {
    t.is(strnatcmp(a, b), expected, `strnatcmp(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
    t.is(strnatcmp(b, a), (-expected || 0) as -1 | 0 | 1, `strnatcmp(${JSON.stringify(b)}, ${JSON.stringify(a)})`);
  }
});

test('strnatcmpEncoded (the fast path) agrees with strnatcmp on whitespace-free ASCII', (t) => {
  // Deterministic pseudo-random strings built from the pieces that matter: digits, leading zeros, brackets, %XX.
  const pieces = ['0', '00', '01', '1', '2', '9', '10', '012', 'a', 'B', '%5B', '%5D', '.', '_', '-', '~', '%2B'];
  let seed = 42;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const word = (): string => {
    let s = '';
    for (let i = next(6); i >= 0; i--) s += pieces[next(pieces.length)];
    return s;
  };
  const mismatches: string[] = [];
  const outcomes = new Set<number>();
  for (let i = 0; i < 20000; i++) {
    const a = word();
    const b = next(3) === 0 ? a.slice(0, next(a.length + 1)) + word() : word();
    const expected = strnatcmp(a, b);
    outcomes.add(expected);
    if (strnatcmpEncoded(a, b) !== expected && mismatches.length < 5) mismatches.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  t.deepEqual(mismatches, []);
  // The cases cover all three answers, ties (leading zeros) included.
  t.deepEqual([...outcomes].sort(), [-1, 0, 1]);
});

// ---- ksort order ----------------------------------------------------------------------------------------------------

test('compareUtf8 orders by UTF-8 bytes, not UTF-16 code units', (t) => {
  t.is(compareUtf8('a', 'b'), -1);
  t.is(compareUtf8('ab', 'a'), 1);
  t.is(compareUtf8('x', 'x'), 0);
  t.is(compareUtf8('a[', 'a_'), -1);
  t.is(compareUtf8('A', 'a'), -1);
  // U+E000 is EE 80 80, U+1F600 is F0 9F 98 80: the emoji sorts last although its UTF-16 surrogate is smaller.
  t.is(compareUtf8('\uE000', '😀'), -1);
  t.is(compareUtf8('😀', '\uFFFF'), 1);
  // Against the bytes themselves, over strings mixing ASCII, BMP above and below the surrogates, and astral planes.
  const samples = ['', 'a', 'a[', 'a_', 'é', '\uD7FF', '\uE000', '\uFFFF', '😀', '𝄞', 'a😀', 'a\uE000', 'ab', 'a\uFFFFb'];
  for (const x of samples) {
    for (const y of samples) {
      const bytes = Math.sign(Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8'))) as -1 | 0 | 1;
      t.is(compareUtf8(x, y), bytes, `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    }
  }
});

test('ksortCompare: numeric names by value, others byte by byte, equal numbers tie', (t) => {
  t.is(ksortCompare('9', '10'), -1);
  t.is(ksortCompare('10', '9a'), -1);
  t.is(ksortCompare('1e1', '2'), 1);
  t.is(ksortCompare('1', '01'), 0);
  t.is(ksortCompare('searchCriteria[filter_groups][10]', 'searchCriteria[filter_groups][2]'), -1);
  t.is(phpNumericValue(' 1.5 '), 1.5);
  t.is(phpNumericValue('0x1A'), undefined);
  t.is(phpNumericValue('1e'), undefined);
});
