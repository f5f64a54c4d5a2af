import { createHmac } from 'node:crypto';
import { vectors } from '../helpers/vectors.js';
import test, { type ExecutionContext } from 'ava';
import { hmacSignature, signatureBaseString } from '../../src/protocol/diagnostics.js';
import { ProtocolError, QueryError, SigningError } from '../../src/protocol/errors.js';
import { generateNonce } from '../../src/protocol/nonce.js';
import { parseFormEncoded, percentEncode } from '../../src/protocol/query.js';
import OAuth from 'oauth-1.0a';
import { createSigner, headerLayoutOf, parameterTailOf, writeHeader, writeTail, SIGNATURE_METHOD, type SignedRequest } from '../../src/protocol/signer.js';
import { collectParameters, protocolParameter } from '../../src/protocol/parameters.js';
import { COMMON_PROFILE, SIGNING_PROFILE_NAMES, signingProfile, type SigningProfile } from '../../src/protocol/signing-profiles.js';
import { normaliseUrl } from '../../src/protocol/url.js';


const consumer = { key: 'ck0000000000000000000000000000a1', secret: 'cs0000000000000000000000000000b2' };
const accessToken = { key: 'at0000000000000000000000000000c3', secret: 'as0000000000000000000000000000d4' };
const fixed = { nonce: 'n0nce0000000000000000000000000e5', timestamp: 1700000000 };
const OAUTH_PARAMS =
  'oauth_consumer_key%3Dck0000000000000000000000000000a1%26oauth_nonce%3Dn0nce0000000000000000000000000e5' +
  '%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1700000000%26oauth_token%3Dat0000000000000000000000000000c3' +
  '%26oauth_version%3D1.0';
const PRODUCTS = 'https://shop.example.com/rest/default/V1/products';

/** The Authorization header's parameters, decoded, in header order. */
function headerParams(authorization: string): Array<[string, string]> {
  const match = /^OAuth (.*)$/.exec(authorization);
  if (match === null) throw new Error(`not an OAuth header: ${authorization}`);
  return match[1]!.split(', ').map((part) => {
    const m = /^([a-z_]+)="([^"]*)"$/.exec(part);
    if (m === null) throw new Error(`bad header part ${part}`);
    return [m[1]!, decodeURIComponent(m[2]!)];
  });
}
const headerParam = (signed: SignedRequest, name: string): string | undefined =>
  headerParams(signed.authorization).find(([n]) => n === name)?.[1];

function expectError<E extends ProtocolError>(
  t: ExecutionContext,
  fn: () => unknown,
  type: new (code: never, message: string) => E,
  code: E['code'],
): E {
  const error = t.throws(fn, { instanceOf: type }) as E;
  t.is(error?.code, code);
  return error;
}

// ---- the shared vectors ---------------------------------------------------------------------------------------

test('the vectors file is there and holds the five vectors', (t) => {
  t.deepEqual(
    vectors.map((v) => v.id.split(' ')[0]),
    ['V1', 'V2', 'V3', 'V4', 'V5'],
  );
});

for (const vector of vectors) {
  test(`vector ${vector.id}: base string, signature and URL reproduced exactly`, (t) => {
    const signer = createSigner(vector.consumer);
    const stamp = { nonce: vector.nonce, timestamp: vector.timestamp };
    let signed: SignedRequest;
    if (vector.url.endsWith('/oauth/token/request')) {
      t.is(vector.token, undefined);
      signed = signer.requestToken({ url: vector.url, ...stamp });
    } else if (vector.url.endsWith('/oauth/token/access')) {
      signed = signer.accessToken({ url: vector.url, requestToken: vector.token!, verifier: vector.verifier!, ...stamp });
    } else {
      // V3's JSON body is sent by the caller and never signed: only its content type reaches the signer.
      const contentType = vector.body === undefined ? undefined : 'application/json';
      signed = signer.sign({ method: vector.method, url: vector.url, contentType, ...stamp }, vector.token!);
    }
    t.is(signed.baseString, vector.base);
    t.is(headerParam(signed, 'oauth_signature'), vector.signature);
    t.is(signed.url, vector.url);
    t.is(signed.method, vector.method);
    t.is(signed.body, undefined);
  });
}

test('V1 from a nested searchCriteria object gives the vector URL, base string and signature', (t) => {
  const v1 = vectors[0]!;
  const signed = createSigner(consumer).sign(
    {
      method: 'GET',
      url: PRODUCTS,
      query: {
        searchCriteria: {
          filter_groups: [{ filters: [{ field: 'sku', value: '24-MB01', condition_type: 'eq' }] }],
          pageSize: 10,
        },
      },
      ...fixed,
    },
    accessToken,
  );
  t.is(signed.url, v1.url);
  t.is(signed.baseString, v1.base);
  t.is(headerParam(signed, 'oauth_signature'), v1.signature);
});

test('V2 from decoded [name, value] pairs (what the proxy passes) gives the vector', (t) => {
  const v2 = vectors[1]!;
  const signed = createSigner(consumer).sign(
    {
      method: 'get',
      url: 'https://shop.example.com/rest/default/V1/orders',
      query: [
        ['searchCriteria[filter_groups][0][filters][0][field]', 'created_at'],
        ['searchCriteria[filter_groups][0][filters][0][value]', '2024-10-25 00:00:00'],
        ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'gt'],
      ],
      ...fixed,
    },
    accessToken,
  );
  t.is(signed.method, 'GET');
  t.is(signed.url, v2.url);
  t.is(signed.baseString, v2.base);
  t.is(headerParam(signed, 'oauth_signature'), v2.signature);
});

test('a caller query read by parseFormEncoded (+ as space, %5B names) signs like V2', (t) => {
  const v2 = vectors[1]!;
  const raw =
    'searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=created_at' +
    '&searchCriteria[filter_groups][0][filters][0][value]=2024-10-25+00%3A00%3A00' +
    '&searchCriteria[filter_groups][0][filters][0][condition_type]=gt';
  const signed = createSigner(consumer).sign(
    { method: 'GET', url: 'https://shop.example.com/rest/default/V1/orders', query: parseFormEncoded(raw), ...fixed },
    accessToken,
  );
  t.is(signed.url, v2.url);
  t.is(headerParam(signed, 'oauth_signature'), v2.signature);
});

// ---- header -------------------------------------------------------------------------------------------------------

test('the Authorization header is exactly what Magento parses: OAuth k="v", ... with RFC 3986 values', (t) => {
  const signed = createSigner(consumer).sign({ method: 'GET', url: vectors[0]!.url, ...fixed }, accessToken);
  t.is(
    signed.authorization,
    'OAuth oauth_consumer_key="ck0000000000000000000000000000a1", oauth_nonce="n0nce0000000000000000000000000e5", ' +
      'oauth_signature="ilRQidoxHx%2BDgGODmRccKU2WcA4%2F9Xwa%2F%2FYUTwcvZ%2Bs%3D", oauth_signature_method="HMAC-SHA256", ' +
      'oauth_timestamp="1700000000", oauth_token="at0000000000000000000000000000c3", oauth_version="1.0"',
  );
});

test("the header template writes exactly what oauth-1.0a's toHeader writes, for awkward values too", (t) => {
  const library = new OAuth({ consumer: { key: '', secret: '' }, signature_method: SIGNATURE_METHOD, hash_function: () => '' });
  const awkward = ["a b+c/d=e&f", "!'()*~._-", 'é€😀', '%41%', 'x"y,z', ''];
  const fixedParts = [
    { oauth_consumer_key: 'ck0000000000000000000000000000a1', oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0' },
    { oauth_consumer_key: "k!'()*", oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0', oauth_token: 't t/+=' },
    { oauth_consumer_key: 'k', oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0', oauth_token: 'rt', oauth_verifier: 'v&=' },
    // A key that holds one of the template's own marks: the template steps aside for toHeader itself.
    { oauth_consumer_key: 'Q2signatureHEREq2', oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0' },
  ];
  for (const fixedPart of fixedParts) {
    const layout = headerLayoutOf(fixedPart);
    if (fixedPart.oauth_consumer_key.includes('HERE')) {
      t.is(layout, null, 'a key holding a mark has no layout');
      continue;
    }
    if (layout === null) return t.fail(`no layout for ${JSON.stringify(fixedPart)}`);
    for (const nonce of ['n0nce0000000000000000000000000e5', ...awkward]) {
      for (const signature of ['ilRQidoxHx+DgGODmRccKU2WcA4/9Xwa//YUTwcvZ+s=', ...awkward]) {
        const expected = library.toHeader({ ...fixedPart, oauth_nonce: nonce, oauth_timestamp: 1700000000, oauth_signature: signature }).Authorization;
        t.is(writeHeader(layout, nonce, 1700000000, signature), expected, `${JSON.stringify(fixedPart)} ${nonce} ${signature}`);
      }
    }
  }
  // Without a layout the signer writes the header with toHeader itself.
  const marked = createSigner({ key: 'Q2signatureHEREq2', secret: 's' }).sign({ method: 'GET', url: PRODUCTS, ...fixed }, accessToken);
  const signature = decodeURIComponent(/oauth_signature="([^"]*)"/.exec(marked.authorization)![1]!);
  t.is(
    marked.authorization,
    library.toHeader({
      oauth_consumer_key: 'Q2signatureHEREq2', oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0', oauth_token: accessToken.key,
      oauth_nonce: fixed.nonce, oauth_timestamp: fixed.timestamp, oauth_signature: signature,
    }).Authorization,
  );
  t.is(signature, createHmac('sha256', `s&${percentEncode(accessToken.secret)}`).update(marked.baseString).digest('base64'));
});

test('the parameter tail of a call without query or form is what the general path builds, for every profile', (t) => {
  // The general path written out: every oauth_* parameter, sorted by the profile, joined and encoded.
  const general = (fixedPart: Record<string, string>, profile: SigningProfile, nonce: string, timestamp: number) => {
    const all = { ...fixedPart, oauth_nonce: nonce, oauth_timestamp: String(timestamp) };
    const { sorted } = collectParameters(Object.entries(all).map(([n, v]) => protocolParameter(n, v)), [], [], profile);
    return percentEncode(sorted.map((p) => p.signed).join('&'));
  };
  const fixedParts: Array<Record<string, string>> = [
    { oauth_consumer_key: 'ck0000000000000000000000000000a1', oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0', oauth_token: 'at0000000000000000000000000000c3' },
    { oauth_consumer_key: "k!'() *%41é", oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0', oauth_token: 't t/+=&' },
    { oauth_consumer_key: 'k', oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0', oauth_token: 'rt', oauth_verifier: 'v&=' },
    { oauth_consumer_key: 'k', oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0' },
  ];
  const nonces = ['n0nce0000000000000000000000000e5', '-._~', 'a', generateNonce(), generateNonce()];
  for (const profile of [COMMON_PROFILE, ...SIGNING_PROFILE_NAMES.map((name) => signingProfile(name))]) {
    for (const fixedPart of fixedParts) {
      const tail = parameterTailOf(Object.entries(fixedPart).map(([n, v]) => protocolParameter(n, v)), profile);
      if (tail === null) return t.fail(`no tail for ${profile.name} ${JSON.stringify(fixedPart)}`);
      for (const nonce of nonces) {
        for (const timestamp of [1, 1700000000, 99999999999]) {
          t.is(writeTail(tail, nonce, timestamp), general(fixedPart, profile, nonce, timestamp), `${profile.name} ${JSON.stringify(fixedPart)} ${nonce} ${timestamp}`);
        }
      }
    }
  }
  // A key that holds one of the template's marks: no tail, the general path signs.
  const marked = [protocolParameter('oauth_consumer_key', 'Q1nonceHEREq1'), protocolParameter('oauth_version', '1.0')];
  t.is(parameterTailOf(marked, COMMON_PROFILE), null);
  const signer = createSigner({ key: 'Q1nonceHEREq1', secret: 's' });
  const signed = signer.sign({ method: 'GET', url: PRODUCTS, ...fixed }, accessToken);
  t.true(signed.baseString.endsWith(general({ oauth_consumer_key: 'Q1nonceHEREq1', oauth_signature_method: SIGNATURE_METHOD, oauth_version: '1.0', oauth_token: accessToken.key }, COMMON_PROFILE, fixed.nonce, fixed.timestamp)));
});

test('one signer signing with another token writes that token into the header', (t) => {
  const signer = createSigner(consumer);
  const first = signer.sign({ method: 'GET', url: vectors[0]!.url, ...fixed }, accessToken);
  const other = signer.sign({ method: 'GET', url: vectors[0]!.url, ...fixed }, { key: 'ot0000000000000000000000000000z9', secret: 'os0000000000000000000000000000y8' });
  t.is(headerParam(first, 'oauth_token'), accessToken.key);
  t.is(headerParam(other, 'oauth_token'), 'ot0000000000000000000000000000z9');
  t.not(headerParam(first, 'oauth_signature'), headerParam(other, 'oauth_signature'));
  const request = signer.requestToken({ url: 'https://shop.example.com/oauth/token/request', ...fixed });
  t.false(request.authorization.includes('oauth_token'));
});

test('request-token header: no token; access-token header: token and verifier', (t) => {
  const signer = createSigner(consumer);
  const request = signer.requestToken({ url: 'https://shop.example.com/oauth/token/request', ...fixed });
  t.deepEqual(
    headerParams(request.authorization).map(([n]) => n),
    ['oauth_consumer_key', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method', 'oauth_timestamp', 'oauth_version'],
  );
  t.is(request.method, 'POST');
  const access = signer.accessToken({
    url: 'https://shop.example.com/oauth/token/access',
    requestToken: { key: 'rt0000000000000000000000000000f6', secret: 'rs0000000000000000000000000000g7' },
    verifier: 'vf0000000000000000000000000000h8',
    ...fixed,
  });
  t.is(headerParam(access, 'oauth_token'), 'rt0000000000000000000000000000f6');
  t.is(headerParam(access, 'oauth_verifier'), 'vf0000000000000000000000000000h8');
  t.is(headerParam(access, 'oauth_signature_method'), 'HMAC-SHA256');
});

test('the signature is HMAC-SHA256 of the base string with key enc(cs)&enc(ts), and enc(cs)& without a token', (t) => {
  const signer = createSigner({ key: 'k', secret: 'c s&' });
  const rest = signer.sign({ method: 'GET', url: PRODUCTS, ...fixed }, { key: 't', secret: 't=s' });
  t.is(headerParam(rest, 'oauth_signature'), hmacSignature(rest.baseString, 'c s&', 't=s'));
  const key = 'c%20s%26&t%3Ds';
  t.is(headerParam(rest, 'oauth_signature'), createHmac('sha256', key).update(rest.baseString).digest('base64'));
  const request = signer.requestToken({ url: 'https://shop.example.com/oauth/token/request', ...fixed });
  t.is(headerParam(request, 'oauth_signature'), createHmac('sha256', 'c%20s%26&').update(request.baseString).digest('base64'));
});

// ---- the OAuth 1.0a spec example ------------------------------------------------------------------------------------

test('OAuth Core 1.0a appendix A.5: base string and published HMAC-SHA1 signature', (t) => {
  const base = signatureBaseString('GET', 'http://photos.example.net/photos?file=vacation.jpg&size=original', {
    oauth_consumer_key: 'dpf43f3p2l4k3l03',
    oauth_token: 'nnch734d00sl2jdk',
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: '1191242096',
    oauth_nonce: 'kllo9940pd9333jh',
    oauth_version: '1.0',
  });
  t.is(
    base,
    'GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03' +
      '%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096' +
      '%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal',
  );
  t.is(hmacSignature(base, 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00', 'sha1'), 'tR3+Ty81lMeYAr/Fid0kMTYa/WM=');
});

// ---- nonce and timestamp --------------------------------------------------------------------------------------------

test('every call gets a fresh 32-character alphanumeric nonce', (t) => {
  const signer = createSigner(consumer);
  const nonces = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const nonce = headerParam(signer.sign({ method: 'GET', url: PRODUCTS }, accessToken), 'oauth_nonce')!;
    t.regex(nonce, /^[A-Za-z0-9]{32}$/);
    nonces.add(nonce);
  }
  t.is(nonces.size, 200);
  const many = new Set(Array.from({ length: 5000 }, generateNonce));
  t.is(many.size, 5000);
  // All 62 characters turn up (a biased or truncated alphabet would show here).
  t.is(new Set([...many].join('')).size, 62);
});

test('the timestamp is whole seconds from the clock', (t) => {
  const signer = createSigner(consumer, { clock: { now: () => new Date(1700000000999) } });
  const signed = signer.sign({ method: 'GET', url: PRODUCTS }, accessToken);
  t.is(headerParam(signed, 'oauth_timestamp'), '1700000000');
  const real = Number(headerParam(createSigner(consumer).sign({ method: 'GET', url: PRODUCTS }, accessToken), 'oauth_timestamp'));
  t.true(Number.isInteger(real) && Math.abs(real - Date.now() / 1000) < 5);
});

test('a fixed nonce or timestamp of the wrong shape is refused', (t) => {
  const signer = createSigner(consumer);
  expectError(t, () => signer.sign({ method: 'GET', url: PRODUCTS, nonce: 'x'.repeat(33) }, accessToken), SigningError, 'invalid_nonce');
  expectError(t, () => signer.sign({ method: 'GET', url: PRODUCTS, nonce: 'a b' }, accessToken), SigningError, 'invalid_nonce');
  expectError(t, () => signer.sign({ method: 'GET', url: PRODUCTS, timestamp: 0 }, accessToken), SigningError, 'invalid_timestamp');
  expectError(t, () => signer.sign({ method: 'GET', url: PRODUCTS, timestamp: 1.5 }, accessToken), SigningError, 'invalid_timestamp');
});

// ---- URL normalisation ----------------------------------------------------------------------------------------------

test('normaliseUrl: scheme and host lower-case, default port dropped, path kept exactly', (t) => {
  t.is(normaliseUrl('HTTPS://Shop.Example.COM:443/index.php/rest/Default/V1/products'), 'https://shop.example.com/index.php/rest/Default/V1/products');
  t.is(normaliseUrl('http://shop.example.com:80/rest/V1/products'), 'http://shop.example.com/rest/V1/products');
  t.is(normaliseUrl('https://shop.example.com:8443/rest/V1/products'), 'https://shop.example.com:8443/rest/V1/products');
  t.is(normaliseUrl('http://shop.example.com:443/rest/V1/products'), 'http://shop.example.com:443/rest/V1/products');
  t.is(normaliseUrl('https://shop.example.com'), 'https://shop.example.com/');
  t.is(normaliseUrl('https://shop.example.com/rest/V1/p#fragment'), 'https://shop.example.com/rest/V1/p');
});

test('paths are sent in the one spelling every Magento version signs alike', (t) => {
  // Escapes of safe characters decoded, other characters escaped, hex upper-case.
  t.is(normaliseUrl('https://s.example/rest/V1/products/24%2DMB01%3Ablue%40x'), 'https://s.example/rest/V1/products/24-MB01:blue@x');
  t.is(normaliseUrl("https://s.example/rest/V1/products/A(1)!*'"), 'https://s.example/rest/V1/products/A%281%29%21%2A%27');
  t.is(normaliseUrl('https://s.example/rest/V1/products/big%20bag%c3%a9'), 'https://s.example/rest/V1/products/big%20bag%C3%A9');
  t.is(normaliseUrl('https://s.example/rest/V1/products/a+b'), 'https://s.example/rest/V1/products/a+b');
  t.is(normaliseUrl('https://s.example/rest/V1/products/100%25'), 'https://s.example/rest/V1/products/100%25');
  const out = normaliseUrl("https://s.example/rest/V1/products/A(1)%3a");
  t.is(normaliseUrl(out), out);
});

test('an encoded "/", "+" or "%" before hex in the path is refused: Magento versions sign it differently', (t) => {
  for (const path of ['24-MB01%2Fblue', 'a%2fb', 'a%2Bb', 'a%252F']) {
    const err = expectError(t, () => normaliseUrl(`https://s.example/rest/V1/products/${path}`), SigningError, 'ambiguous_path');
    t.regex(err.message, /searchCriteria filter on sku/);
  }
});

test('normaliseUrl re-encodes the query the way the signer sends it, and is a fixed point', (t) => {
  const out = normaliseUrl('https://shop.example.com/rest/V1/p?q=a+b%2Bc&searchCriteria%5BpageSize%5D=5&d=2024-10-25%2000:00:00');
  t.is(out, 'https://shop.example.com/rest/V1/p?q=a%20b%2Bc&searchCriteria[pageSize]=5&d=2024-10-25%2000%3A00%3A00');
  t.is(normaliseUrl(out), out);
  t.is(new URL(out).href, out);
  t.is(normaliseUrl(new URL(out)), out);
});

test('the signed URL is the returned URL: host case, default port, index.php and store code as sent', (t) => {
  const signed = createSigner(consumer).sign(
    { method: 'GET', url: 'HTTPS://SHOP.example.com:443/index.php/rest/default_store/V1/products', ...fixed },
    accessToken,
  );
  t.is(signed.url, 'https://shop.example.com/index.php/rest/default_store/V1/products');
  t.is(signed.baseString, `GET&https%3A%2F%2Fshop.example.com%2Findex.php%2Frest%2Fdefault_store%2FV1%2Fproducts&${OAUTH_PARAMS}`);
  const port = createSigner(consumer).sign({ method: 'GET', url: 'http://127.0.0.1:8080/rest/V1/products', ...fixed }, accessToken);
  t.is(port.url, 'http://127.0.0.1:8080/rest/V1/products');
  t.is(port.baseString, `GET&http%3A%2F%2F127.0.0.1%3A8080%2Frest%2FV1%2Fproducts&${OAUTH_PARAMS}`);
  t.is(normaliseUrl(signed.url), signed.url);
});

test('URLs that cannot be signed are refused', (t) => {
  const signer = createSigner(consumer);
  expectError(t, () => signer.sign({ method: 'GET', url: 'shop.example.com/rest' }, accessToken), SigningError, 'invalid_url');
  expectError(t, () => signer.sign({ method: 'GET', url: 'ftp://shop.example.com/' }, accessToken), SigningError, 'invalid_url');
  expectError(t, () => signer.sign({ method: 'GET', url: 'https://u:p@shop.example.com/' }, accessToken), SigningError, 'invalid_url');
  expectError(t, () => signer.sign({ method: 'GE T', url: PRODUCTS }, accessToken), SigningError, 'invalid_method');
});

// ---- values ---------------------------------------------------------------------------------------------------------

test('spaces, colons, +, &, = and unicode in values: %20 %3A %2B %26 %3D and UTF-8, signed as Magento computes', (t) => {
  const signed = createSigner(consumer).sign({ method: 'GET', url: PRODUCTS, query: { q: 'a b:c+d&e=f é' }, ...fixed }, accessToken);
  t.is(signed.url, `${PRODUCTS}?q=a%20b%3Ac%2Bd%26e%3Df%20%C3%A9`);
  t.is(
    signed.baseString,
    `GET&https%3A%2F%2Fshop.example.com%2Frest%2Fdefault%2FV1%2Fproducts&${OAUTH_PARAMS}` +
      '%26q%3Da%2520b%253Ac%252Bd%2526e%253Df%2520%25C3%25A9',
  );
  // Computed independently with PHP: base64_encode(hash_hmac('sha256', $base, 'cs...b2&as...d4', true)).
  t.is(headerParam(signed, 'oauth_signature'), 'Wm7b1ya7OkF4xS/IfjfL/g3JvGB7VkHMBJbEDhGrqyI=');
});

test('bracketed names stay raw in the URL and are encoded in the base string', (t) => {
  const signed = createSigner(consumer).sign(
    { method: 'GET', url: PRODUCTS, query: { searchCriteria: { sortOrders: [{ field: 'name', direction: 'ASC' }] } }, ...fixed },
    accessToken,
  );
  t.is(signed.url, `${PRODUCTS}?searchCriteria[sortOrders][0][field]=name&searchCriteria[sortOrders][0][direction]=ASC`);
  t.true(
    signed.baseString.endsWith(
      '%26searchCriteria%255BsortOrders%255D%255B0%255D%255Bdirection%255D%3DASC' +
        '%26searchCriteria%255BsortOrders%255D%255B0%255D%255Bfield%255D%3Dname',
    ),
  );
});

// ---- bodies ---------------------------------------------------------------------------------------------------------

test('a form body is signed and returned encoded; a JSON body is not signed', (t) => {
  const signer = createSigner(consumer);
  const url = 'https://shop.example.com/rest/default/V1/example';
  const form = signer.sign({ method: 'POST', url, form: { name: 'a b', qty: 2 }, ...fixed }, accessToken);
  t.is(form.body, 'name=a%20b&qty=2');
  t.is(form.contentType, 'application/x-www-form-urlencoded');
  t.is(form.url, url);
  t.is(
    form.baseString,
    `POST&https%3A%2F%2Fshop.example.com%2Frest%2Fdefault%2FV1%2Fexample&name%3Da%2520b%26${OAUTH_PARAMS}%26qty%3D2`,
  );
  t.is(headerParam(form, 'oauth_signature'), 'XS3nYM/Nvq1e8O2EVnhS+K1lvEpNB9AwRBKRDvx7ukw=');

  const json = signer.sign({ method: 'POST', url, contentType: 'application/json', ...fixed }, accessToken);
  const none = signer.sign({ method: 'POST', url, ...fixed }, accessToken);
  t.is(json.baseString, `POST&https%3A%2F%2Fshop.example.com%2Frest%2Fdefault%2FV1%2Fexample&${OAUTH_PARAMS}`);
  t.is(json.authorization, none.authorization);
  t.not(headerParam(form, 'oauth_signature'), headerParam(none, 'oauth_signature'));
  t.is(json.body, undefined);
});

test('a form content type without structured fields is refused, as are bracketed form fields', (t) => {
  const signer = createSigner(consumer);
  const error = expectError(
    t,
    () => signer.sign({ method: 'POST', url: PRODUCTS, contentType: 'application/x-www-form-urlencoded; charset=utf-8' }, accessToken),
    SigningError,
    'form_body_not_structured',
  );
  t.is(error.message, 'a form body is part of the signature: pass its fields as `form` and send the returned body');
  expectError(t, () => signer.sign({ method: 'POST', url: PRODUCTS, form: { a: { b: 1 } } }, accessToken), QueryError, 'invalid_parameter_name');
});

// ---- names Magento cannot verify ------------------------------------------------------------------------------------

test('duplicate names are refused across the URL query, the query and the form', (t) => {
  const signer = createSigner(consumer);
  expectError(t, () => signer.sign({ method: 'GET', url: `${PRODUCTS}?a=1`, query: { a: '2' } }, accessToken), QueryError, 'duplicate_parameter');
  expectError(t, () => signer.sign({ method: 'GET', url: PRODUCTS, query: [['a', '1'], ['a', '2']] }, accessToken), QueryError, 'duplicate_parameter');
  expectError(t, () => signer.sign({ method: 'POST', url: PRODUCTS, query: { a: '1' }, form: { a: '2' } }, accessToken), QueryError, 'duplicate_parameter');
  expectError(t, () => signer.sign({ method: 'GET', url: `${PRODUCTS}?a=1&a=2` }, accessToken), QueryError, 'duplicate_parameter');
});

test('a URL query name without = and malformed escapes are refused', (t) => {
  const signer = createSigner(consumer);
  expectError(t, () => signer.sign({ method: 'GET', url: `${PRODUCTS}?flag` }, accessToken), QueryError, 'parameter_without_value');
  expectError(t, () => signer.sign({ method: 'GET', url: `${PRODUCTS}?a=%G1` }, accessToken), QueryError, 'malformed_percent_encoding');
});

test('names PHP would read as something else are refused', (t) => {
  const signer = createSigner(consumer);
  const sign = (query: Record<string, string> | Array<[string, string]>) => () => signer.sign({ method: 'GET', url: PRODUCTS, query }, accessToken);
  expectError(t, sign({ oauth_token: 'x' }), QueryError, 'reserved_parameter_name');
  expectError(t, sign({ 'a.b': 'x' }), QueryError, 'invalid_parameter_name');
  expectError(t, sign({ '9': 'x' }), QueryError, 'invalid_parameter_name');
  expectError(t, sign([['a[b', 'x']]), QueryError, 'invalid_parameter_name');
  const clash = expectError(t, sign([['a', '1'], ['a[b]', '2']]), QueryError, 'invalid_parameter_name');
  t.is(clash.message, 'parameters "a" and "a[b]" are the same PHP variable; send one of them');
});

// ---- the two sort orders --------------------------------------------------------------------------------------------

const filterGroups = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ filters: [{ field: 'entity_id', value: String(i), condition_type: 'eq' }] }));

test('11 filter groups ([1] vs [10]) are refused before sending, saying which names and why', (t) => {
  const signer = createSigner(consumer);
  const error = expectError(
    t,
    () => signer.sign({ method: 'GET', url: PRODUCTS, query: { searchCriteria: { filter_groups: filterGroups(11) } } }, accessToken),
    SigningError,
    'ambiguous_parameter_order',
  );
  t.is(
    error.message,
    'cannot sign this request: Magento versions order the parameters "searchCriteria[filter_groups][10][filters][0][value]" ' +
      'and "searchCriteria[filter_groups][1][filters][0][condition_type]" differently, so no signature is valid on every ' +
      'Magento version and the store would answer 401 "The signature is invalid". Their digit runs 10 and 1 have ' +
      'different lengths: 2.4.4–2.4.7 compare them as numbers (1 before 10), the current code character by character ' +
      '(10 before 1). Split the request so that every index stays below 10 (e.g. at most 10 filter groups or filters ' +
      'per request), or keep the numbers in these names the same length',
  );
});

test('[2] vs [10] is refused too', (t) => {
  const error = expectError(
    t,
    () => createSigner(consumer).sign({ method: 'GET', url: PRODUCTS, query: [['f[2]', 'a'], ['f[10]', 'b']] }, accessToken),
    SigningError,
    'ambiguous_parameter_order',
  );
  t.true(error.message.includes('"f[10]" and "f[2]"'));
  t.true(error.message.includes('Their digit runs 10 and 2 have different lengths: 2.4.4–2.4.7 compare them as numbers (2 before 10)'));
});

test('10 filter groups ([0]..[9]) are signed, in the order both versions use', (t) => {
  const signed = createSigner(consumer).sign(
    { method: 'GET', url: PRODUCTS, query: { searchCriteria: { filter_groups: filterGroups(10) } }, ...fixed },
    accessToken,
  );
  const names = decodeURIComponent(decodeURIComponent(signed.baseString.split('&')[2]!))
    .split('&')
    .map((p) => p.slice(0, p.indexOf('=')))
    .filter((n) => n.endsWith('[field]'));
  t.deepEqual(names, Array.from({ length: 10 }, (_, i) => `searchCriteria[filter_groups][${i}][filters][0][field]`));
});

test('zero-padded indexes of equal length are signed', (t) => {
  const query = Array.from({ length: 12 }, (_, i) => [`f[${String(i).padStart(2, '0')}]`, String(i)] as [string, string]);
  const signed = createSigner(consumer).sign({ method: 'GET', url: PRODUCTS, query, ...fixed }, accessToken);
  t.true(signed.baseString.includes('%26f%255B09%255D%3D9%26f%255B10%255D%3D10%26f%255B11%255D%3D11%26oauth_consumer_key'));
});

test('names whose order percent-encoding changes are refused', (t) => {
  const error = expectError(
    t,
    () => createSigner(consumer).sign({ method: 'GET', url: PRODUCTS, query: { a1: 'x', a: { b: 'y' } } }, accessToken),
    SigningError,
    'ambiguous_parameter_order',
  );
  t.is(
    error.message,
    'cannot sign this request: Magento versions order the parameters "a1" and "a[b]" differently, so no signature is ' +
      'valid on every Magento version and the store would answer 401 "The signature is invalid". 2.4.4–2.4.7 compare ' +
      'the percent-encoded names (a1 vs a%5Bb%5D), the current code the raw names, and the encoding changes their ' +
      'order. Rename one of them',
  );
});

test('names that natural order calls equal, or numeric names ksort cannot order, are refused', (t) => {
  const signer = createSigner(consumer);
  const sign = (query: Array<[string, string]>) => () => signer.sign({ method: 'GET', url: PRODUCTS, query }, accessToken);
  expectError(t, sign([['01', 'x'], ['1e0', 'y'], ['x', 'z']]), SigningError, 'ambiguous_parameter_order');
  expectError(t, sign([['1e1', 'x'], ['2e0', 'y']]), SigningError, 'ambiguous_parameter_order');
  t.notThrows(sign([['01', 'x'], ['2e0', 'y']]));
});

test('credentials must be present', (t) => {
  expectError(t, () => createSigner({ key: '', secret: 's' }), SigningError, 'invalid_credentials');
  const signer = createSigner(consumer);
  expectError(t, () => signer.sign({ method: 'GET', url: PRODUCTS }, { key: 'a', secret: '' }), SigningError, 'invalid_credentials');
  expectError(
    t,
    () => signer.accessToken({ url: 'https://shop.example.com/oauth/token/access', requestToken: accessToken, verifier: '' }),
    SigningError,
    'invalid_credentials',
  );
});
