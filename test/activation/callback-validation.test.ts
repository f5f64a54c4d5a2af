// The callback POST is unsigned: every malformed one is refused at the edge with a 4xx that names the problem, and
// nothing is stored. Private and plain-http store URLs only pass with ALLOW_PRIVATE_STORE_URLS.
import { randomBytes } from 'node:crypto';
import { forEachBackend } from '../helpers/db.js';
import { postCallback, startConnector, type CallbackFields, type Connector } from '../helpers/connector.js';

const key = (n = 32): string => {
  let s = '';
  while (s.length < n) s += randomBytes(32).toString('hex');
  return s.slice(0, n);
};

const VALID: CallbackFields = {
  oauth_consumer_key: key(),
  oauth_consumer_secret: key(),
  store_base_url: 'https://shop.example.com/',
  oauth_verifier: key(),
};

type Body = Record<string, string> | [string, string][] | string | undefined;

interface Case {
  what: string;
  body: Body;
  contentType?: string | null;
  status: number;
  code: string;
  /** What the message must say (it names the field). */
  message: RegExp;
  /** Run against a connector without ALLOW_PRIVATE_STORE_URLS (default: with it). */
  strict?: boolean;
}

const without = (name: keyof CallbackFields): Record<string, string> => {
  const copy: Record<string, string> = { ...VALID };
  delete copy[name];
  return copy;
};
const withUrl = (url: string): Record<string, string> => ({ ...VALID, store_base_url: url });

const CASES: Case[] = [
  ...(['oauth_consumer_key', 'oauth_consumer_secret', 'store_base_url', 'oauth_verifier'] as const).map((name) => ({
    what: `missing ${name}`,
    body: without(name),
    status: 400,
    code: 'invalid_callback',
    message: new RegExp(`^${name} is missing`),
  })),
  { what: 'empty value', body: { ...VALID, oauth_verifier: '' }, status: 400, code: 'invalid_callback', message: /^oauth_verifier is missing/ },
  { what: 'extra field', body: { ...VALID, oauth_token: key() }, status: 400, code: 'invalid_callback', message: /unexpected field "oauth_token"/ },
  { what: 'field name in another case', body: [...Object.entries(without('oauth_verifier')), ['OAUTH_VERIFIER', key()]], status: 400, code: 'invalid_callback', message: /unexpected field "OAUTH_VERIFIER"/ },
  { what: 'repeated field', body: [...Object.entries(VALID), ['oauth_verifier', key()]], status: 400, code: 'invalid_callback', message: /oauth_verifier must be given once/ },
  { what: 'repeated field, same value', body: [...Object.entries(VALID), ['oauth_consumer_key', VALID.oauth_consumer_key]], status: 400, code: 'invalid_callback', message: /oauth_consumer_key must be given once/ },
  { what: 'key too short', body: { ...VALID, oauth_consumer_key: key(15) }, status: 400, code: 'invalid_callback', message: /^oauth_consumer_key must be 16 to 64 letters and digits/ },
  { what: 'key too long', body: { ...VALID, oauth_consumer_key: key(65) }, status: 400, code: 'invalid_callback', message: /^oauth_consumer_key must be 16 to 64/ },
  { what: 'key with a hyphen', body: { ...VALID, oauth_consumer_key: `${key(16)}-${key(15)}` }, status: 400, code: 'invalid_callback', message: /^oauth_consumer_key must be/ },
  { what: 'secret with a space', body: { ...VALID, oauth_consumer_secret: `${key(16)} ${key(15)}` }, status: 400, code: 'invalid_callback', message: /^oauth_consumer_secret must be/ },
  { what: 'unicode in the verifier', body: { ...VALID, oauth_verifier: `${key(31)}é` }, status: 400, code: 'invalid_callback', message: /^oauth_verifier must be/ },
  { what: 'fullwidth digits in the key', body: { ...VALID, oauth_consumer_key: `${key(30)}１２` }, status: 400, code: 'invalid_callback', message: /^oauth_consumer_key must be/ },
  { what: 'javascript: URL', body: withUrl('javascript:alert(1)//'), status: 400, code: 'invalid_callback', message: /store_base_url must be an https:\/\/ URL; "javascript:" URLs are not accepted/ },
  { what: 'file: URL', body: withUrl('file:///etc/passwd'), status: 400, code: 'invalid_callback', message: /store_base_url .*"file:"/ },
  { what: 'ftp: URL', body: withUrl('ftp://shop.example.com/'), status: 400, code: 'invalid_callback', message: /store_base_url .*"ftp:"/ },
  { what: 'relative URL', body: withUrl('/magento/'), status: 400, code: 'invalid_callback', message: /store_base_url must be an absolute URL/ },
  { what: 'credentialed URL', body: withUrl('https://admin:secret@shop.example.com/'), status: 400, code: 'invalid_callback', message: /store_base_url must not contain a user name or password/ },
  { what: 'fragment', body: withUrl('https://shop.example.com/#admin'), status: 400, code: 'invalid_callback', message: /store_base_url must not contain a fragment/ },
  { what: 'query string', body: withUrl('https://shop.example.com/?___store=en'), status: 400, code: 'invalid_callback', message: /store_base_url must not contain a query string/ },
  { what: 'over-long URL', body: withUrl(`https://shop.example.com/${'a'.repeat(240)}/`), status: 400, code: 'invalid_callback', message: /store_base_url is longer than 255 characters/ },
  { what: 'zero-width space in the URL', body: withUrl('https://shop\u200b.example.com/'), status: 400, code: 'invalid_callback', message: /store_base_url must not contain spaces, control characters or invisible characters/ },
  { what: 'http://127.0.0.1/ without the switch', body: withUrl('http://127.0.0.1/'), status: 400, code: 'invalid_callback', message: /store_base_url must use https:\/\//, strict: true },
  { what: 'https://127.0.0.1/ without the switch', body: withUrl('https://127.0.0.1/'), status: 400, code: 'invalid_callback', message: /store_base_url points to a loopback, private/, strict: true },
  { what: 'http://10.0.0.1/ without the switch', body: withUrl('http://10.0.0.1/'), status: 400, code: 'invalid_callback', message: /store_base_url must use https:\/\//, strict: true },
  { what: 'https://10.0.0.1/ without the switch', body: withUrl('https://10.0.0.1/'), status: 400, code: 'invalid_callback', message: /store_base_url points to a loopback, private/, strict: true },
  { what: 'https://[::1]/ without the switch', body: withUrl('https://[::1]/'), status: 400, code: 'invalid_callback', message: /store_base_url points to a loopback, private/, strict: true },
  { what: 'http://localhost/ without the switch', body: withUrl('http://localhost/'), status: 400, code: 'invalid_callback', message: /store_base_url must use https:\/\//, strict: true },
  { what: 'https://localhost/ without the switch', body: withUrl('https://localhost/'), status: 400, code: 'invalid_callback', message: /store_base_url points to localhost/, strict: true },
  { what: 'plain http without the switch', body: withUrl('http://shop.example.com/'), status: 400, code: 'invalid_callback', message: /store_base_url must use https:\/\/.*ALLOW_PRIVATE_STORE_URLS/, strict: true },
  { what: 'oversized body (> 16 KiB)', body: { ...VALID, store_base_url: `https://shop.example.com/${'a'.repeat(17 * 1024)}/` }, status: 413, code: 'body_too_large', message: /request body is too large/ },
  { what: 'JSON body', body: JSON.stringify(VALID), contentType: 'application/json', status: 415, code: 'unsupported_media_type', message: /application\/x-www-form-urlencoded/ },
  { what: 'multipart body', body: multipart(VALID), contentType: 'multipart/form-data; boundary=XyZ', status: 415, code: 'unsupported_media_type', message: /application\/x-www-form-urlencoded/ },
  { what: 'text/plain body', body: new URLSearchParams({ ...VALID }).toString(), contentType: 'text/plain', status: 415, code: 'unsupported_media_type', message: /application\/x-www-form-urlencoded/ },
  { what: 'no content type', body: new URLSearchParams({ ...VALID }).toString(), contentType: null, status: 415, code: 'unsupported_media_type', message: /application\/x-www-form-urlencoded/ },
  { what: 'empty body', body: '', status: 400, code: 'invalid_callback', message: /^oauth_consumer_key is missing/ },
  { what: 'no body at all', body: undefined, status: 400, code: 'invalid_callback', message: /^oauth_consumer_key is missing/ },
];

function multipart(fields: CallbackFields): string {
  return `${Object.entries(fields)
    .map(([k, v]) => `--XyZ\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join('')}--XyZ--\r\n`;
}

/** A binding that was there before, so "unchanged" means something. */
async function seed(connector: Connector) {
  const now = connector.clock.now();
  const created = await connector.running.services.storage.bindings.create({
    id: `seed-${key(8)}`,
    consumerKey: VALID.oauth_consumer_key,
    storeBaseUrl: VALID.store_base_url,
    state: 'request_token',
    consumerSecret: VALID.oauth_consumer_secret,
    verifier: null,
    callbackAt: now,
  });
  if (!created) throw new Error('seed failed');
}

forEachBackend((backend, test) => {
  test(`${CASES.length} malformed callbacks: each a 4xx with X-Connector-Error and a message naming the problem; nothing stored`, async (t) => {
    const lenient = await startConnector(backend, t);
    const strict = await startConnector(backend, t, { allowPrivate: false });
    await seed(lenient);
    await seed(strict);
    const before = {
      lenient: await lenient.running.services.storage.bindings.list(),
      strict: await strict.running.services.storage.bindings.list(),
    };
    t.is(before.lenient.length, 1);

    for (const c of CASES) {
      const connector = c.strict ? strict : lenient;
      const res = await postCallback(connector, c.body, c.contentType === undefined ? 'application/x-www-form-urlencoded' : c.contentType);
      t.is(res.status, c.status, `${c.what}: ${res.text.slice(0, 300)}`);
      t.is(res.headers.get('x-connector-error'), c.code, c.what);
      t.regex(res.headers.get('content-type') ?? '', /^application\/json/, c.what);
      t.is(res.json?.error?.code, c.code, c.what);
      t.regex(res.json?.error?.message ?? '', c.message, c.what);
      t.truthy(res.headers.get('x-request-id'), c.what);
    }
    await lenient.running.services.activation.drain();
    await strict.running.services.activation.drain();
    t.deepEqual(await lenient.running.services.storage.bindings.list(), before.lenient, 'bindings unchanged');
    t.deepEqual(await strict.running.services.storage.bindings.list(), before.strict, 'bindings unchanged');
  });

  test('the same private and plain-http store URLs are accepted with ALLOW_PRIVATE_STORE_URLS (they are refused only for that reason)', async (t) => {
    const lenient = await startConnector(backend, t, { durations: { retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 } });
    for (const url of ['http://127.0.0.1:9/', 'http://10.0.0.1:9/', 'http://localhost:9/', 'http://shop.example.invalid/']) {
      const fields = { ...VALID, oauth_consumer_key: key(), store_base_url: url };
      const res = await postCallback(lenient, fields);
      t.is(res.status, 200, `${url}: ${res.text}`);
      t.is((await lenient.binding(fields.oauth_consumer_key))?.storeBaseUrl, url);
    }
  });
});
