// Operations: /healthz says the process is up; /readyz says the database answers (load balancers route on it).
import Router from '@koa/router';
import { StorageUnavailableError } from '../../storage/errors.js';
import type { HttpServices } from '../context.js';
import { ConnectorError } from '../errors.js';

export function opsRoutes(s: HttpServices): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      ctx.body = { status: 'ready', ...(await s.readiness()) };
    } catch (err) {
      if (err instanceof StorageUnavailableError) throw new ConnectorError(503, err.code, err.message);
      throw err;
    }
  });
  return router;
}
