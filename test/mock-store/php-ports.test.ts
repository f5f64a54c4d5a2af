// The PHP and Laminas behaviours the verifier is built on, checked on cases worked out from their C/PHP source.
import test from 'ava';
import { parseStr, phpIntCast, phpJsonEncode, phpToJs, rawurldecode, rawurlencode, strnatcmp, urlencode } from '../../src/mock-store/php.js';
import { normaliseBaseSignatureUrl, removePathDotSegments } from '../../src/mock-store/signature.js';
import { popupUrl } from '../../src/mock-store/integrations.js';

const sign = (n: number): number => Math.sign(n);

test('strnatcmp: digit runs by value, longer run wins, zero-led runs compare left-aligned', (t) => {
  t.is(sign(strnatcmp('img2', 'img10')), -1);
  t.is(sign(strnatcmp('img10', 'img2')), 1);
  t.is(sign(strnatcmp('img12', 'img10')), 1);
  t.is(strnatcmp('abc', 'abc'), 0);
  t.is(sign(strnatcmp('x2-y7', 'x2-y08')), 1, 'fractional: 0-led run compares left-aligned');
  t.is(sign(strnatcmp('x2-g8', 'x2-y7')), -1);
  t.is(sign(strnatcmp('a', 'ab')), -1);
  t.is(sign(strnatcmp('', 'a')), -1);
  t.is(strnatcmp('007', '7'), 0, 'leading zeros of the whole string are skipped');
  t.is(sign(strnatcmp('a%5B2%5D', 'a%5B10%5D')), -1);
  t.is(sign(strnatcmp('oauth_nonce', 'oauth_consumer_key')), 1);
  const sorted = ['searchCriteria%5BpageSize%5D', 'oauth_version', 'searchCriteria%5Bfilter_groups%5D%5B10%5D', 'searchCriteria%5Bfilter_groups%5D%5B2%5D'].sort(strnatcmp);
  t.deepEqual(sorted, ['oauth_version', 'searchCriteria%5Bfilter_groups%5D%5B2%5D', 'searchCriteria%5Bfilter_groups%5D%5B10%5D', 'searchCriteria%5BpageSize%5D']);
});

test('rawurlencode / urlencode / rawurldecode on byte strings', (t) => {
  t.is(rawurlencode('a b+c~d*'), 'a%20b%2Bc~d%2A');
  t.is(urlencode('a b+c~d*'), 'a+b%2Bc%7Ed%2A');
  t.is(rawurldecode('a+b%2b%20%E2%82%AC'), 'a+b+ \u00e2\u0082\u00ac', 'bytes, + kept');
  t.is(rawurlencode(rawurldecode('%FF%00')), '%FF%00', 'invalid UTF-8 survives');
});

test('parse_str: + is a space, brackets nest, [] appends, dots in names become _, later duplicates win', (t) => {
  t.deepEqual(phpToJs(parseStr('a=1&a=2&b.c=x+y&d[]=1&d[]=2&e[f][g]=h&flag')), {
    a: '2',
    b_c: 'x y',
    d: { 0: '1', 1: '2' },
    e: { f: { g: 'h' } },
    flag: '',
  });
  t.deepEqual(phpToJs(parseStr('a[b=1')), { a_b: '1' });
});

test('(int) cast of timestamps', (t) => {
  t.is(phpIntCast('1700000000'), 1700000000);
  t.is(phpIntCast(' 12abc'), 12);
  t.is(phpIntCast('abc'), 0);
  t.is(phpIntCast('1e3'), 1000);
});

test('json_encode escapes / and non-ASCII', (t) => {
  t.is(phpJsonEncode({ sku: 'A/B', name: 'Café' }), '{"sku":"A\\/B","name":"Caf\\u00e9"}');
});

test('Laminas URL normalisation: case, default ports, dot segments, escapes', (t) => {
  t.is(normaliseBaseSignatureUrl('HTTP://Shop.Example.COM:80/rest/V1/x?q=1'), 'http://shop.example.com/rest/V1/x');
  t.is(normaliseBaseSignatureUrl('https://shop.example.com:443/a'), 'https://shop.example.com/a');
  t.is(normaliseBaseSignatureUrl('http://shop.example.com:8080/a'), 'http://shop.example.com:8080/a');
  t.is(normaliseBaseSignatureUrl('http://h/a/./b/../c'), 'http://h/a/c');
  t.is(normaliseBaseSignatureUrl('http://h/p/a%2fb%2Bc%20d%7e'), 'http://h/p/a/b+c%20d~');
  t.is(normaliseBaseSignatureUrl('http://h/p/(x)[y]'), 'http://h/p/%28x%29%5By%5D');
  t.is(normaliseBaseSignatureUrl('http://h'), 'http://h/');
  t.is(removePathDotSegments('/a/b/../../..'), '/');
});

test('popup URL: identity URL + ? + $.param (spaces as +), no matter what the identity URL holds', (t) => {
  t.is(
    popupUrl('https://c.example/id', 'k', 'http://m.example/admin/x y/'),
    'https://c.example/id?oauth_consumer_key=k&success_call_back=http%3A%2F%2Fm.example%2Fadmin%2Fx+y%2F',
  );
  t.is(popupUrl('https://c.example/id?a=1', 'k', 's'), 'https://c.example/id?a=1?oauth_consumer_key=k&success_call_back=s');
});
