// GET /api/openapi.json: served without authentication, valid OpenAPI 3.1 (checked by a validator package), and it
// describes every route the /api routers have (walked from @koa/router's stack), the error shape and every code.
import Router from '@koa/router';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ERROR_STATUS } from '../../src/http/error-status.js';
import { accountsApiRoutes } from '../../src/http/routes/accounts-api.js';
import { apiRoutes, PROXY_ROUTE } from '../../src/http/routes/api.js';
import { webhooksApiRoutes } from '../../src/http/routes/webhooks-api.js';
import { startConnector } from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas?: Record<string, unknown> };
  'x-error-status': Record<string, number>;
}

/** @koa/router's `/stores/:id/rest/*path` as OpenAPI's `/stores/{id}/rest/{path}`. */
const toOpenApi = (path: string) => path.replace(/[:*](\w+)/g, '{$1}');

forEachBackend((backend, test) => {
  test('GET /api/openapi.json: valid OpenAPI 3.1 describing every /api route, the error shape and every error code', async (t) => {
    const connector = await startConnector(backend, t);
    const res = await fetch(`${connector.url}/api/openapi.json`);
    t.is(res.status, 200);
    const doc = (await res.json()) as Doc;
    t.is(doc.openapi, '3.1.0');
    const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0]);
    t.true(result.valid, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));

    const services = connector.running.services;
    const routers: Router[] = [accountsApiRoutes(services), webhooksApiRoutes(services), apiRoutes(services) as unknown as Router];
    // The proxy is one middleware of its own (routes/api.ts proxyRoute), not a router: its path is described too.
    t.truthy(doc.paths[toOpenApi(PROXY_ROUTE)], `${PROXY_ROUTE} is described`);
    let checked = 1;
    for (const router of routers) {
      for (const layer of router.stack) {
        const path = toOpenApi(String(layer.path).replace(/\/$/, '') || '/');
        // The catch-alls that answer every other /api path with our 404 are no route of their own.
        if (path === '/api' || path === '/api/{rest}' || path === '/api/stores/{id}/rest') continue;
        const described = doc.paths[path];
        t.truthy(described, `${layer.methods.join(',')} ${layer.path} is described`);
        if (!described) continue;
        // A route for particular methods: each of them is described (HEAD comes with GET). `all` routes (405
        // answers and the proxy) list every method: the path being described is what matters for them.
        const methods = layer.methods.filter((m) => m !== 'HEAD').map((m) => m.toLowerCase());
        if (methods.length < 6) for (const m of methods) t.truthy(described[m], `${m.toUpperCase()} ${path} is described`);
        checked++;
      }
    }
    t.true(checked >= 14, `${checked} routes checked`);

    const text = JSON.stringify(doc);
    for (const code of Object.keys(ERROR_STATUS)) t.true(text.includes(`"${code}"`), `error code ${code} is listed`);
    t.deepEqual(doc['x-error-status'], ERROR_STATUS);
    t.true(text.includes('"error"') && text.includes('"message"'), 'the error shape');
  });
});
