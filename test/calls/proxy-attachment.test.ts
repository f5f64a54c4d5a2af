// A store's answer is served from our origin by the proxy: one that is not JSON or XML (a store's HTML error page,
// SVG, XHTML, anything a browser would render and run) goes out as an attachment with nosniff, never as a page of
// ours; JSON and XML pass byte for byte, inline; every proxied answer carries a sandboxing CSP.
import type { Context, Next } from 'koa';
import { createMockStore } from '../../src/mock-store/app.js';
import { callApi, connectStore, type CapturingMockStore } from '../helpers/activated.js';
import { startConnector } from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';

// What the stand-in store answers on /rest/V1/raw/<name>, before the mock's own routes (and its signature check).
const RAW: Record<string, { type: string | null; body: string }> = {
  html: { type: 'text/html; charset=UTF-8', body: '<html><script>alert(document.cookie)</script></html>' },
  svg: { type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' },
  plain: { type: 'text/plain', body: '<script>alert(1)</script>' },
  none: { type: null, body: '<script>alert(1)</script>' },
  json: { type: 'application/json; charset=utf-8', body: '{ "odd" :  [1,2 ,3],"x":"\\u00e9"}\n' },
  problem: { type: 'application/problem+json', body: '{"type":"about:blank"}' },
  xhtml: { type: 'application/xhtml+xml', body: '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>' },
  xml: { type: 'application/xml', body: '<?xml version="1.0"?><response><item>1</item></response>' },
  textxml: { type: 'text/xml', body: '<a>1</a>' },
};

forEachBackend((backend, test) => {
  test('proxied bodies other than JSON and XML are attachments with nosniff; JSON and XML are unchanged byte for byte', async (t) => {
    const mock = createMockStore({ testMode: true }) as CapturingMockStore;
    Object.assign(mock, { bodies: [] });
    mock.app.middleware.unshift(async function raw(ctx: Context, next: Next) {
      const name = /^\/rest\/V1\/raw\/(\w+)$/.exec(ctx.path)?.[1];
      const answer = name ? RAW[name] : undefined;
      if (!answer) return next();
      ctx.status = 200;
      ctx.body = Buffer.from(answer.body);
      if (answer.type) ctx.set('Content-Type', answer.type);
      else ctx.remove('Content-Type');
    });
    await mock.start(0);
    t.teardown(() => mock.close());
    const connector = await startConnector(backend, t);
    const store = await connectStore(connector, mock);

    for (const [name, answer] of Object.entries(RAW)) {
      const res = await callApi(`${store.restUrl}V1/raw/${name}`, 'GET', store.apiKey);
      t.is(res.status, 200, `${name}: ${res.text.slice(0, 200)}`);
      t.is(res.headers.get('x-content-type-options'), 'nosniff', name);
      t.is(res.headers.get('content-security-policy'), "default-src 'none'; sandbox", `${name}: rendered anyway, it runs nothing`);
      t.is(res.bytes.toString('utf8'), answer.body, `${name}: the body is passed as it came`);
      const inline = ['json', 'problem', 'xml', 'textxml'].includes(name);
      t.is(res.headers.get('content-disposition'), inline ? null : 'attachment', name);
      if (inline) t.is(res.headers.get('content-type'), answer.type, `${name}: its type unchanged`);
    }
    // A real Magento answer is JSON, inline.
    const product = await callApi(`${store.restUrl}V1/products/24-MB01`, 'GET', store.apiKey);
    t.is(product.status, 200);
    t.is(product.headers.get('content-disposition'), null);
  });
});
