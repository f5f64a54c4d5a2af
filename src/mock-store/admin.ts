// The mock's admin: a JSON API for scripts and tests, a page that drives an integration the way Magento's
// System > Extensions > Integrations grid does (view/adminhtml/web/js/integration.js: the identity popup opens
// 680x510 after the callback POST returned, the grid reloads when the popup closes or reaches the success URL),
// and the loginSuccessCallback page that closes the popup.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { readRawBody } from './http.js';
import { AdminError, type IntegrationAdmin, type IntegrationView } from './integrations.js';

export interface AdminOptions {
  admin: IntegrationAdmin;
  /** The secret in the success URL, like Magento's `/key/<secret>/`. */
  urlKey: string;
  storeBaseUrl: () => string;
  successCallbackPath: string;
  /** The full success URL the popup is sent to (successCallbackPath + urlKey on the store's origin). */
  successCallbackUrl: () => string;
}

const CreateSchema = z.object({
  name: z.string(),
  callbackUrl: z.string().optional(),
  identityLinkUrl: z.string().optional(),
  email: z.string().optional(),
  resources: z.union([z.literal('all'), z.array(z.string())]).optional(),
});

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function sendError(ctx: Context, e: unknown): void {
  if (e instanceof AdminError) {
    ctx.status = e.status;
    ctx.body = { error: { code: e.code, message: e.message } };
    return;
  }
  throw e;
}

/** Scripts send no Origin; a browser on another site does. Refuse that, so a web page cannot drive the mock. */
async function sameOriginWrites(ctx: Context, next: Next): Promise<void> {
  const origin = ctx.get('Origin');
  if (ctx.method !== 'GET' && origin) {
    let host = '';
    try {
      host = new URL(origin).host;
    } catch {
      // unparsable origin: refused below
    }
    if (host !== ctx.host) {
      ctx.status = 403;
      ctx.body = { error: { code: 'cross_origin', message: 'Cross-origin admin requests are refused.' } };
      return;
    }
  }
  await next();
}

function idParam(ctx: Context): number {
  const id = Number((ctx.params as Record<string, string>).id);
  if (!Number.isInteger(id) || id < 1) throw new AdminError(404, 'not_found', 'No such integration.');
  return id;
}

export function adminRouter(o: AdminOptions): Router {
  const router = new Router();
  router.use(sameOriginWrites);

  router.get('/admin/api/integrations', function listIntegrations(ctx) {
    ctx.body = { items: o.admin.list() };
  });

  router.post('/admin/api/integrations', async function createIntegration(ctx) {
    let input: unknown;
    try {
      input = JSON.parse((await readRawBody(ctx)).toString('utf8') || '{}');
    } catch {
      return sendError(ctx, new AdminError(400, 'invalid_json', 'The body must be JSON.'));
    }
    const parsed = CreateSchema.safeParse(input);
    if (!parsed.success) {
      return sendError(ctx, new AdminError(400, 'invalid_body', 'Expected {"name", "callbackUrl", "identityLinkUrl"}.'));
    }
    try {
      ctx.status = 201;
      ctx.body = o.admin.create(parsed.data);
    } catch (e) {
      sendError(ctx, e);
    }
  });

  router.get('/admin/api/integrations/:id', function getIntegration(ctx) {
    try {
      ctx.body = o.admin.get(idParam(ctx));
    } catch (e) {
      sendError(ctx, e);
    }
  });

  router.delete('/admin/api/integrations/:id', function deleteIntegration(ctx) {
    try {
      const id = idParam(ctx);
      o.admin.delete(id);
      ctx.body = { id, deleted: true };
    } catch (e) {
      sendError(ctx, e);
    }
  });

  for (const action of ['activate', 'reauthorize'] as const) {
    router.post(`/admin/api/integrations/:id/${action}`, async function exchange(ctx) {
      try {
        ctx.body = await o.admin[action](idParam(ctx));
      } catch (e) {
        sendError(ctx, e);
      }
    });
  }

  // Magento: Controller\Adminhtml\Integration\LoginSuccessCallback. A wrong secret key goes to the dashboard.
  router.get(`${o.successCallbackPath}:key{/}`, function loginSuccessCallback(ctx) {
    if ((ctx.params as Record<string, string>).key !== o.urlKey) return ctx.redirect('/admin/');
    ctx.type = 'text/html; charset=UTF-8';
    ctx.body = '<script>setTimeout("self.close()",1000);</script>';
  });

  router.get(['/admin', '/admin/'], function integrationsGrid(ctx) {
    ctx.type = 'text/html; charset=UTF-8';
    ctx.body = gridPage(o.admin.list(), o.storeBaseUrl(), o.successCallbackUrl());
  });

  return router;
}

function row(i: IntegrationView): string {
  const active = i.status === 'active';
  const action = active ? 'reauthorize' : 'activate';
  return `<tr>
  <td class="col-name">${esc(i.name)}</td>
  <td>${active ? 'Active' : 'Inactive'}</td>
  <td><code>${esc(i.callbackUrl || '—')}</code><br><code>${esc(i.identityLinkUrl || '—')}</code></td>
  <td><code>${esc(i.consumerKey)}</code></td>
  <td>
    <button type="button" data-action="${action}" data-id="${i.id}">${active ? 'Reauthorize' : 'Activate'}</button>
    <button type="button" data-action="delete" data-id="${i.id}">Delete</button>
  </td>
</tr>`;
}

function gridPage(items: IntegrationView[], storeBaseUrl: string, successCallbackUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Integrations / System / Mock Magento Admin</title>
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#303030}
 table{border-collapse:collapse;width:100%;margin:1em 0}
 td,th{border:1px solid #d6d6d6;padding:.5em;text-align:left;vertical-align:top}
 th{background:#514943;color:#fff} code{font-size:12px}
 .msg{padding:.75em;margin:1em 0;border-left:4px solid #007bdb;background:#f0f7fc}
 .msg.error{border-color:#e22626;background:#fae5e5}
 #modal{display:none;position:fixed;inset:0;background:rgba(0,0,0,.35)}
 #modal div{background:#fff;max-width:30em;margin:15% auto;padding:2em}
 form input{width:24em;margin:.2em 0}
</style></head>
<body data-success-call-back="${esc(successCallbackUrl)}">
<h1>Integrations</h1>
<p>Mock Magento 2.4 store. <code>store_base_url</code>: <code>${esc(storeBaseUrl)}</code></p>
<div id="messages"></div>
<table id="integrationGrid">
<thead><tr><th>Name</th><th>Status</th><th>Callback URL / Identity Link URL</th><th>Consumer Key</th><th>Actions</th></tr></thead>
<tbody>${items.length ? items.map(row).join('') : '<tr><td colspan="5">We couldn\'t find any records.</td></tr>'}</tbody>
</table>
<h2>Add New Integration</h2>
<form id="new-integration">
 <label>Name<br><input name="name" required></label><br>
 <label>Callback URL<br><input name="callbackUrl" type="url"></label><br>
 <label>Identity link URL<br><input name="identityLinkUrl" type="url"></label><br>
 <button type="submit">Save</button>
</form>
<div id="modal"><div><strong>Integration activation</strong>
 <p>Please setup or sign in into your 3rd party account to complete setup of this integration.</p></div></div>
<script>
(function () {
  'use strict';
  var successCallBack = document.body.getAttribute('data-success-call-back');
  var messages = document.getElementById('messages');
  var modal = document.getElementById('modal');
  function say(text, isError) {
    var div = document.createElement('div');
    div.className = 'msg' + (isError ? ' error' : '');
    div.textContent = text;
    messages.appendChild(div);
  }
  function api(method, url, body) {
    return fetch(url, { method: method, headers: { 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined })
      .then(function (res) { return res.json().then(function (data) { return { ok: res.ok, data: data }; }); });
  }
  // integration.js IdentityLogin: open after the callback POST, poll every 500 ms, reload when the popup closes
  // or has reached the success callback URL.
  function invokePopup(url) {
    var left = screen.width - 680 - 30, top = screen.height - 510 - 300;
    var win = window.open(url, '', 'top=' + top + ', left=' + left + ', width=680, height=510,scrollbars=no');
    try { win.focus(); } catch (e) {
      say('Popup Blocker is enabled! Please add this site to your exception list.', true);
      return;
    }
    modal.style.display = 'block';
    var checker = setInterval(function () {
      try {
        if (win.closed || win.location.href === successCallBack) {
          clearInterval(checker);
          window.location.reload();
        }
      } catch (e) {
        if (win.closed) { modal.style.display = 'none'; clearInterval(checker); }
      }
    }, 500);
  }
  document.getElementById('integrationGrid').addEventListener('click', function (e) {
    var button = e.target.closest('button[data-action]');
    if (!button) return;
    var id = button.getAttribute('data-id'), action = button.getAttribute('data-action');
    if (action === 'delete') {
      if (!confirm("Are you sure you want to delete this integration? You can't undo this action.")) return;
      api('DELETE', '/admin/api/integrations/' + id).then(function () { window.location.reload(); });
      return;
    }
    button.disabled = true;
    api('POST', '/admin/api/integrations/' + id + '/' + action).then(function (r) {
      button.disabled = false;
      if (!r.ok) return say(r.data.error ? r.data.error.message : 'Request failed', true);
      if (!r.data.callback) return window.location.reload();
      if (!r.data.callback.ok) return say('Unable to post data to consumer due to an unexpected error (' + r.data.callback.error + ')', true);
      say("Integration has been sent for " + (action === 'activate' ? 'activation.' : 're-authorization.'));
      invokePopup(r.data.popupUrl);
    });
  });
  document.getElementById('new-integration').addEventListener('submit', function (e) {
    e.preventDefault();
    var f = e.target;
    api('POST', '/admin/api/integrations', { name: f.name.value, callbackUrl: f.callbackUrl.value, identityLinkUrl: f.identityLinkUrl.value })
      .then(function (r) { if (!r.ok) return say(r.data.error.message, true); window.location.reload(); });
  });
})();
</script>
</body></html>`;
}
