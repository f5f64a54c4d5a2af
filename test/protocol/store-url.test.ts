import test from 'ava';
import { isPublicAddress, parseStoreBaseUrl } from '../../src/protocol/store-url.js';

const M = {
  missing: "store_base_url is missing: expected the store's base URL, e.g. https://shop.example.com/",
  tooLong: 'store_base_url is longer than 255 characters',
  tooLongNormalised: 'store_base_url is longer than 255 characters once normalised',
  invisible: 'store_base_url must not contain spaces, control characters or invisible characters',
  backslash: 'store_base_url must not contain backslashes; use / in URLs',
  absolute: 'store_base_url must be an absolute URL, e.g. https://shop.example.com/',
  scheme: (s: string) => `store_base_url must be an https:// URL; "${s}:" URLs are not accepted`,
  slashes: 'store_base_url must start with https:// followed by the host name, e.g. https://shop.example.com/',
  fragment: 'store_base_url must not contain a fragment (#...); remove it',
  query: 'store_base_url must not contain a query string (?...); remove it',
  credentials: 'store_base_url must not contain a user name or password',
  dotSegments: 'store_base_url must not contain "." or ".." path segments',
  invalid: 'store_base_url is not a valid URL: check the host name and port, e.g. https://shop.example.com/',
  http:
    "store_base_url must use https:// (the store's secure base URL); http:// is accepted only when private " +
    'store URLs are allowed (ALLOW_PRIVATE_STORE_URLS, for development)',
  port0: 'store_base_url has port 0; use the port the store listens on, or none',
  nonPublic:
    'store_base_url points to a loopback, private, link-local or otherwise non-public address; ' +
    "use the store's public host name",
  localhost: "store_base_url points to localhost; use the store's public host name",
  trailingDot: 'store_base_url host must not end in a dot; remove the trailing "."',
  dnsName:
    'store_base_url host is not a valid DNS name (letters, digits and hyphens between dots), ' +
    'e.g. https://shop.example.com/',
  fqdn: 'store_base_url host must be a fully qualified domain name, e.g. https://shop.example.com/',
};

type Case = [label: string, raw: string, allowPrivate: boolean, expected: { url: string } | { message: string }];
const ok = (url: string) => ({ url });
const no = (message: string) => ({ message });

const LONGEST = `https://shop.example.com/${'p'.repeat(229)}/`;

const cases: Case[] = [
  // accepted and normalised
  ['good https', 'https://shop.example.com/', false, ok('https://shop.example.com/')],
  ['trailing slash added', 'https://shop.example.com', false, ok('https://shop.example.com/')],
  ['sub-path gets a slash', 'https://shop.example.com/shop', false, ok('https://shop.example.com/shop/')],
  ['index.php/ kept', 'https://shop.example.com/index.php/', false, ok('https://shop.example.com/index.php/')],
  ['index.php completed', 'https://shop.example.com/index.php', false, ok('https://shop.example.com/index.php/')],
  ['default port dropped', 'https://shop.example.com:443/', false, ok('https://shop.example.com/')],
  ['other port kept', 'https://shop.example.com:8443/', false, ok('https://shop.example.com:8443/')],
  ['empty port', 'https://shop.example.com:/', false, ok('https://shop.example.com/')],
  ['scheme and host lowered', 'HTTPS://Shop.Example.COM/Store/', false, ok('https://shop.example.com/Store/')],
  ['double slash not collapsed', 'https://shop.example.com//', false, ok('https://shop.example.com//')],
  ['unicode host to punycode', 'https://bücher.example/', false, ok('https://xn--bcher-kva.example/')],
  ['public IPv4 literal', 'https://93.184.215.14/', false, ok('https://93.184.215.14/')],
  ['public IPv6 literal', 'https://[2606:4700:0:0::1]/', false, ok('https://[2606:4700::1]/')],
  ['255 characters', LONGEST, false, ok(LONGEST)],
  ['hyphenated host', 'https://my-shop.example.co.uk/', false, ok('https://my-shop.example.co.uk/')],
  ['http with allowPrivate', 'http://shop.example.com:80/', true, ok('http://shop.example.com/')],
  ['localhost with allowPrivate', 'http://localhost:8080', true, ok('http://localhost:8080/')],
  ['loopback with allowPrivate', 'http://127.1:8080/index.php/', true, ok('http://127.0.0.1:8080/index.php/')],
  ['single label with allowPrivate', 'http://mock-store:8080', true, ok('http://mock-store:8080/')],
  ['IPv6 loopback with allowPrivate', 'http://[::1]:8080/', true, ok('http://[::1]:8080/')],

  // refused: form
  ['empty', '', false, no(M.missing)],
  ['http without the switch', 'http://shop.example.com/', false, no(M.http)],
  ['credentials', 'https://user:pass@shop.example.com/', false, no(M.credentials)],
  ['user only', 'https://user@shop.example.com/', false, no(M.credentials)],
  ['bare @', 'https://@shop.example.com/', false, no(M.credentials)],
  ['credentials even with allowPrivate', 'http://a:b@localhost/', true, no(M.credentials)],
  ['fragment', 'https://shop.example.com/#top', false, no(M.fragment)],
  ['empty fragment', 'https://shop.example.com/#', false, no(M.fragment)],
  ['query', 'https://shop.example.com/?___store=default', false, no(M.query)],
  ['empty query', 'https://shop.example.com/?', false, no(M.query)],
  ['javascript:', 'javascript:alert(1)', false, no(M.scheme('javascript'))],
  ['javascript: with allowPrivate', 'javascript:alert(1)', true, no(M.scheme('javascript'))],
  ['file:', 'file:///etc/passwd', false, no(M.scheme('file'))],
  ['ftp:', 'ftp://shop.example.com/', false, no(M.scheme('ftp'))],
  ['data:', 'data:text/plain,hi', false, no(M.scheme('data'))],
  ['scheme-relative', '//shop.example.com/', false, no(M.absolute)],
  ['no scheme', 'shop.example.com', false, no(M.absolute)],
  ['no slashes after scheme', 'https:shop.example.com', false, no(M.slashes)],
  ['256 characters', `https://shop.example.com/${'p'.repeat(230)}/`, false, no(M.tooLong)],
  ['too long once encoded', `https://shop.example.com/${'ü'.repeat(40)}`, false, no(M.tooLongNormalised)],
  ['over-long DNS label', `https://${'a'.repeat(64)}.example.com/`, false, no(M.dnsName)],
  ['space in host', 'https://shop .example.com/', false, no(M.invisible)],
  ['leading space', ' https://shop.example.com/', false, no(M.invisible)],
  ['trailing newline', 'https://shop.example.com/\n', false, no(M.invisible)],
  ['tab in path', 'https://shop.example.com/a\tb/', false, no(M.invisible)],
  ['zero-width space in host', 'https://exa\u200Bmple.com/', false, no(M.invisible)],
  ['soft hyphen in host', 'https://exa\u00ADmple.com/', false, no(M.invisible)],
  ['bidi override', 'https://shop.\u202Emoc.example/', false, no(M.invisible)],
  ['backslash trick', 'https://shop.example.com\\@evil.example/', false, no(M.backslash)],
  ['dot-dot segment', 'https://shop.example.com/a/../admin/', false, no(M.dotSegments)],
  ['encoded dot-dot segment', 'https://shop.example.com/%2E%2e/', false, no(M.dotSegments)],
  ['port 0', 'https://shop.example.com:0/', false, no(M.port0)],
  ['port out of range', 'https://shop.example.com:99999/', false, no(M.invalid)],
  ['unclosed IPv6', 'https://[::1/', false, no(M.invalid)],
  ['five-part numeric host', 'https://1.2.3.4.5/', false, no(M.invalid)],
  ['underscore in host', 'https://shop_1.example.com/', false, no(M.dnsName)],
  ['label starting with hyphen', 'https://-shop.example.com/', false, no(M.dnsName)],
  ['trailing dot', 'https://shop.example.com./', false, no(M.trailingDot)],
  ['single label', 'https://intranet/', false, no(M.fqdn)],

  // refused: non-public literals (every spelling WHATWG URL turns into 127.0.0.1 included)
  ['127.1', 'https://127.1/', false, no(M.nonPublic)],
  ['0x7f.1', 'https://0x7f.1/', false, no(M.nonPublic)],
  ['2130706433', 'https://2130706433/', false, no(M.nonPublic)],
  ['octal 0177.0.0.1', 'https://0177.0.0.1/', false, no(M.nonPublic)],
  ['full-width digits and dots', 'https://１２７．０．０．１/', false, no(M.nonPublic)],
  ['[::1]', 'https://[::1]/', false, no(M.nonPublic)],
  ['[::ffff:127.0.0.1]', 'https://[::ffff:127.0.0.1]/', false, no(M.nonPublic)],
  ['[::ffff:a00:1] mapped private', 'https://[::ffff:a00:1]/', false, no(M.nonPublic)],
  ['[::] unspecified', 'https://[::]/', false, no(M.nonPublic)],
  ['[fe80::1] link-local', 'https://[fe80::1]/', false, no(M.nonPublic)],
  ['[fd00::1] unique local', 'https://[fd00::1]/', false, no(M.nonPublic)],
  ['[64:ff9b::a9fe:a9fe] NAT64 of metadata', 'https://[64:ff9b::a9fe:a9fe]/', false, no(M.nonPublic)],
  ['10.x', 'https://10.1.2.3/', false, no(M.nonPublic)],
  ['172.16.x', 'https://172.16.0.1/', false, no(M.nonPublic)],
  ['192.168.x', 'https://192.168.1.10/', false, no(M.nonPublic)],
  ['CGNAT', 'https://100.64.0.1/', false, no(M.nonPublic)],
  ['169.254.169.254', 'https://169.254.169.254/latest/meta-data/', false, no(M.nonPublic)],
  ['0.0.0.0', 'https://0.0.0.0/', false, no(M.nonPublic)],
  ['multicast', 'https://224.0.0.1/', false, no(M.nonPublic)],
  ['broadcast', 'https://255.255.255.255/', false, no(M.nonPublic)],
  ['localhost', 'https://localhost/', false, no(M.localhost)],
  ['localhost.', 'https://localhost./', false, no(M.localhost)],
  ['LOCALHOST', 'https://LOCALHOST:8443/', false, no(M.localhost)],
  ['foo.localhost', 'https://foo.localhost/', false, no(M.localhost)],
  ['percent-encoded localhost', 'https://%6c%6fcalhost/', false, no(M.localhost)],
  ['localhost. with allowPrivate hits the dot rule', 'http://localhost./', true, no(M.trailingDot)],
];

for (const [label, raw, allowPrivate, expected] of cases) {
  test(`store_base_url ${allowPrivate ? '(allowPrivate) ' : ''}${label}`, (t) => {
    const result = parseStoreBaseUrl(raw, { allowPrivate });
    t.deepEqual(result, 'url' in expected ? { ok: true, url: expected.url } : { ok: false, message: expected.message });
  });
}

test('store_base_url: an accepted URL is a fixed point', (t) => {
  for (const [, raw, allowPrivate, expected] of cases) {
    if (!('url' in expected)) continue;
    t.deepEqual(parseStoreBaseUrl(expected.url, { allowPrivate }), { ok: true, url: expected.url }, raw);
  }
});

const publicAddresses = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.215.14',
  '100.63.255.255',
  '100.128.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.167.255.255',
  '223.255.255.255',
  '2606:4700:4700::1111',
  '2a00:1450:4001:82a::200e',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  '64:ff9b::808:808',
  '2002:808:808::1',
];
const nonPublicAddresses = [
  '127.0.0.1',
  '127.255.255.254',
  '10.0.0.1',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.0.1',
  '169.254.169.254',
  '100.64.0.1',
  '100.127.255.255',
  '0.0.0.0',
  '0.1.2.3',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  '192.0.0.8',
  '192.0.2.1',
  '198.18.0.1',
  '198.51.100.1',
  '203.0.113.1',
  '::',
  '::1',
  'fc00::1',
  'fd12:3456::1',
  'fe80::1',
  'fe80::1%eth0',
  'fec0::1',
  'ff02::1',
  '100::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:0:7f00:1',
  '::ffff:169.254.169.254',
  '::127.0.0.1',
  '64:ff9b::7f00:1',
  '64:ff9b::a00:1',
  '64:ff9b:1::1',
  '2002:7f00:1::',
  '2002:a9fe:a9fe::1',
  '2001::1',
  '2001:db8::1',
  '3fff::1',
  '',
  'localhost',
  'not-an-ip',
  '1.2.3',
  '127.1',
  '[::1]',
];

test('isPublicAddress: public unicast addresses', (t) => {
  for (const ip of publicAddresses) t.true(isPublicAddress(ip), ip);
});

test('isPublicAddress: loopback, private, link-local, CGNAT, multicast, reserved, documentation, non-IPs', (t) => {
  for (const ip of nonPublicAddresses) t.false(isPublicAddress(ip), ip);
});
