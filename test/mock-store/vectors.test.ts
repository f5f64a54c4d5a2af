// The shared signing vectors: the test signer reproduces them, the mock's verifier rebuilds the same base strings
// from requests as Magento receives them, and each vector replayed over HTTP is accepted by the mock.
import { vectors, type Vector } from '../helpers/vectors.js';
import test from 'ava';
import { prepareRequest, requestUrl } from '../../src/mock-store/oauth.js';
import { baseSignatureString, hmacSignature } from '../../src/mock-store/signature.js';
import { form, raw, startStore } from './helpers.js';
import { sign } from './signer.js';



const signVector = (v: Vector) =>
  sign({
    method: v.method,
    url: v.url,
    consumerKey: v.consumer.key,
    consumerSecret: v.consumer.secret,
    token: v.token?.key,
    tokenSecret: v.token?.secret,
    verifier: v.verifier,
    timestamp: v.timestamp,
    nonce: v.nonce,
  });

for (const v of vectors) {
  test(`test signer reproduces ${v.id}`, (t) => {
    const s = signVector(v);
    t.is(s.base, v.base);
    t.is(s.signature, v.signature);
  });

  test(`mock verifier rebuilds the base string of ${v.id}`, (t) => {
    const u = new URL(v.url);
    const req = {
      method: v.method,
      secure: u.protocol === 'https:',
      host: u.host,
      requestUri: v.url.slice(u.origin.length),
      authorization: signVector(v).authorization,
      contentType: v.body ? 'application/json' : undefined,
      body: v.body ?? '',
    };
    const params = prepareRequest(req);
    const signedParams = new Map([...params].filter(([k]) => k !== 'oauth_signature').map(([k, val]) => [k, val as string]));
    const base = baseSignatureString(v.method, requestUrl(req), signedParams);
    t.is(base, v.base);
    t.is(hmacSignature('HMAC-SHA256', base, v.consumer.secret, v.token?.secret ?? null), v.signature);
  });

  for (const verifier of ['laminas', 'laminas-double-encoding', 'native'] as const) {
    // 2.4.8-beta1 double-encodes query values: the space and colons of V2 fail there (magento/magento2#37278).
    const verifies = !(verifier === 'laminas-double-encoding' && v.id.startsWith('V2'));
    test(`${verifier} ${verifies ? 'accepts' : 'refuses'} ${v.id} replayed over HTTP (Host shop.example.com, offloaded https)`, async (t) => {
      const store = await startStore(t, { verifier });
      const isAccess = v.url.endsWith('/oauth/token/access');
      const isRequest = v.url.endsWith('/oauth/token/request');
      store.admin.seed({
        name: 'vectors',
        callbackUrl: 'https://connector.example/magento/callback',
        identityLinkUrl: 'https://connector.example/magento/identity',
        consumerKey: v.consumer.key,
        consumerSecret: v.consumer.secret,
        status: isAccess || isRequest ? 'inactive' : 'active',
        resources: 'all',
        tokens: isRequest
          ? [{ type: 'verifier', token: 'vt0000000000000000000000000000x1', secret: 'vs0000000000000000000000000000x2', verifier: 'vf0000000000000000000000000000h8' }]
          : [{ type: isAccess ? 'request' : 'access', token: v.token!.key, secret: v.token!.secret, verifier: v.verifier ?? 'vf0000000000000000000000000000h8' }],
      });
      const u = new URL(v.url);
      const res = await raw({
        method: v.method,
        url: store.baseUrl,
        target: v.url.slice(u.origin.length),
        headers: {
          Host: u.host,
          'X-Forwarded-Proto': 'https',
          Authorization: signVector(v).authorization,
          ...(v.body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: v.body,
      });
      if (!verifies) {
        t.is(res.status, 401);
        t.deepEqual(JSON.parse(res.body), { message: 'The signature is invalid. Verify and try again.' });
        return;
      }
      t.is(res.status, 200, res.body);
      if (isAccess || isRequest) {
        t.regex(res.body, /^oauth_token=[0-9a-z]{32}&oauth_token_secret=[0-9a-z]{32}$/);
        t.is(form(res.body).oauth_token?.length, 32);
      } else {
        t.regex(res.headers['content-type'] ?? '', /^application\/json/);
      }
    });
  }
}

test('the same vector over plain http (no offloader header) is refused: the scheme is signed', async (t) => {
  const store = await startStore(t);
  const v = vectors[0]!;
  store.admin.seed({
    name: 'vectors',
    consumerKey: v.consumer.key,
    consumerSecret: v.consumer.secret,
    status: 'active',
    tokens: [{ type: 'access', token: v.token!.key, secret: v.token!.secret }],
  });
  const u = new URL(v.url);
  const res = await raw({
    method: 'GET',
    url: store.baseUrl,
    target: v.url.slice(u.origin.length),
    headers: { Host: u.host, Authorization: signVector(v).authorization },
  });
  t.is(res.status, 401);
  t.deepEqual(JSON.parse(res.body), { message: 'The signature is invalid. Verify and try again.' });
});
