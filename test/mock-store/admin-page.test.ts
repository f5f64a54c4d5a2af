// The admin page and the popup's landing page, as a browser gets them.
import test from 'ava';
import { callbackReceiver, createAndActivate, raw, startStore } from './helpers.js';

test('GET /admin/ lists integrations with escaped names and the right button per status', async (t) => {
  const store = await startStore(t);
  await createAndActivate(store, await callbackReceiver(t), '<img src=x onerror=alert(1)>');
  store.admin.create({ name: 'Plain "quoted" & co' });
  const res = await raw({ method: 'GET', url: store.adminUrl });
  t.is(res.status, 200);
  t.regex(res.headers['content-type'] ?? '', /^text\/html/);
  t.false(res.body.includes('<img src=x'));
  t.true(res.body.includes('&lt;img src=x onerror=alert(1)&gt;'));
  t.true(res.body.includes('Plain &quot;quoted&quot; &amp; co'));
  t.is((res.body.match(/data-action="activate"/g) ?? []).length, 2);
  t.true(res.body.includes(`data-success-call-back="${store.successCallbackUrl}"`));
});

test('the page opens the identity popup like integration.js: after the POST, 680x510, reload on close', async (t) => {
  const store = await startStore(t);
  const page = (await raw({ method: 'GET', url: store.adminUrl })).body;
  t.regex(page, /window\.open\(url, '', 'top=' \+ top \+ ', left=' \+ left \+ ', width=680, height=510,scrollbars=no'\)/);
  t.regex(page, /win\.closed \|\| win\.location\.href === successCallBack/);
  t.regex(page, /window\.location\.reload\(\)/);
  t.regex(page, /setInterval\(function \(\) \{[\s\S]*\}, 500\)/);
  t.true(page.indexOf("api('POST', '/admin/api/integrations/' + id + '/' + action)") < page.indexOf('invokePopup(r.data.popupUrl)'));
});

test('the success callback page closes the popup; a wrong key goes to the dashboard', async (t) => {
  const store = await startStore(t);
  const ok = await raw({ method: 'GET', url: store.successCallbackUrl });
  t.is(ok.status, 200);
  t.is(ok.body, '<script>setTimeout("self.close()",1000);</script>');
  const wrong = await raw({ method: 'GET', url: store.successCallbackUrl.replace(/key\/[0-9a-f]+\//, 'key/abc/') });
  t.is(wrong.status, 302);
  t.is(wrong.headers.location, '/admin/');
});

test('cross-origin writes to the admin API are refused; scripts without Origin pass', async (t) => {
  const store = await startStore(t);
  const body = JSON.stringify({ name: 'x' });
  const evil = await raw({
    method: 'POST',
    url: `${store.adminUrl}api/integrations`,
    headers: { 'Content-Type': 'application/json', Origin: 'https://evil.example' },
    body,
  });
  t.is(evil.status, 403);
  const script = await raw({ method: 'POST', url: `${store.adminUrl}api/integrations`, headers: { 'Content-Type': 'application/json' }, body });
  t.is(script.status, 201);
});

test('admin API errors: unknown id 404, bad body 400', async (t) => {
  const store = await startStore(t);
  t.is((await raw({ method: 'GET', url: `${store.adminUrl}api/integrations/99` })).status, 404);
  t.is((await raw({ method: 'POST', url: `${store.adminUrl}api/integrations/99/activate` })).status, 404);
  const bad = await raw({ method: 'POST', url: `${store.adminUrl}api/integrations`, headers: { 'Content-Type': 'application/json' }, body: '{"name":' });
  t.is(bad.status, 400);
  const badUrl = await raw({
    method: 'POST',
    url: `${store.adminUrl}api/integrations`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'y', callbackUrl: 'ftp://x' }),
  });
  t.is(badUrl.status, 400);
});
