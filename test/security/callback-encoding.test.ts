// Issue 13: an invalid Content-Encoding on a form route is a 400, not a 500. The sign-in forms are covered in
// test/http/hardening.test.ts; this is Magento's callback, the form route anyone can reach without a session.
import { gzipSync } from 'node:zlib';
import { startConnector } from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';

forEachBackend((backend, test) => {
  test('the callback: a body that is not what its Content-Encoding says is 400 bad_request in our JSON shape', async (t) => {
    const connector = await startConnector(backend, t);
    const post = (encoding: string, body: Buffer | string) =>
      fetch(`${connector.url}/magento/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': encoding },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const res = await post(encoding, 'oauth_consumer_key=abc');
      t.is(res.status, 400, encoding);
      t.is(res.headers.get('x-connector-error'), 'bad_request');
      const body = (await res.json()) as { error: { code: string; message: string } };
      t.regex(body.error.message, new RegExp(`not valid ${encoding} data`));
    }
    // A truncated gzip stream is refused the same way.
    const truncated = gzipSync('oauth_consumer_key=abc&store_base_url=https%3A%2F%2Fshop.example.com%2F').subarray(0, 12);
    const cut = await post('gzip', truncated);
    t.is(cut.status, 400);
    t.is(cut.headers.get('x-connector-error'), 'bad_request');
    t.false(connector.logs().includes('"unhandled error"'), 'nothing reached the 500 handler');
  });
});
