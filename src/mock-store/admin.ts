// The mock's admin: a JSON API for scripts and tests, a page that drives an integration the way Magento's
// System > Extensions > Integrations grid does (view/adminhtml/web/js/integration.js: the identity popup opens
// 680x510 after the callback POST returned, the grid reloads when the popup closes or reaches the success URL),
// and the loginSuccessCallback page that closes the popup.
import Router from '@koa/router';
import nunjucks from 'nunjucks';
import { fileURLToPath } from 'node:url';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { readRawBody } from './http.js';
import { AdminError, type IntegrationAdmin, type IntegrationView } from './integrations.js';
import { VERIFIER_NAMES } from './verifiers.js';

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
  verifier: z.enum(VERIFIER_NAMES).nullable().optional(),
});

const UpdateSchema = z.object({
  callbackUrl: z.string().optional(),
  identityLinkUrl: z.string().optional(),
  resources: z.union([z.literal('all'), z.array(z.string())]).optional(),
  verifier: z.enum(VERIFIER_NAMES).nullable().optional(),
});

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
      return sendError(
        ctx,
        new AdminError(
          400,
          'invalid_body',
          `Expected {"name", "callbackUrl"?, "identityLinkUrl"?, "resources"?: "all" | [...], "verifier"?: ${VERIFIER_NAMES.map((v) => `"${v}"`).join(' | ')}}.`,
        ),
      );
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

  // The integration's Info tab (its URLs), its API tab (resources) and, for tests, its verifier.
  router.patch('/admin/api/integrations/:id', async function updateIntegration(ctx) {
    let input: unknown;
    try {
      input = JSON.parse((await readRawBody(ctx)).toString('utf8') || '{}');
    } catch {
      return sendError(ctx, new AdminError(400, 'invalid_json', 'The body must be JSON.'));
    }
    const parsed = UpdateSchema.safeParse(input);
    if (!parsed.success) {
      return sendError(
        ctx,
        new AdminError(400, 'invalid_body', `Expected {"callbackUrl"?, "identityLinkUrl"?, "resources"?: "all" | [...], "verifier"?: ${VERIFIER_NAMES.join(' | ')} | null}.`),
      );
    }
    try {
      ctx.body = o.admin.update(idParam(ctx), parsed.data);
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

const views = new nunjucks.Environment(new nunjucks.FileSystemLoader(fileURLToPath(new URL('./views/', import.meta.url))), {
  autoescape: true,
  throwOnUndefined: false,
});

function gridPage(items: IntegrationView[], storeBaseUrl: string, successCallbackUrl: string): string {
  return views.render('admin-grid.njk', { items, storeBaseUrl, successCallbackUrl });
}
