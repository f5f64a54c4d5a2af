// Operations: /healthz says the process is up; /readyz says the database answers (load balancers route on it).
import Router from '@koa/router';
import type { HttpServices } from '../context.js';
import { ConnectorError } from '../errors.js';

export function opsRoutes(s: HttpServices): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      await s.storage.ping();
    } catch (err) {
      s.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'readiness: database unreachable');
      throw new ConnectorError(503, 'database_unavailable', 'The database cannot be reached.');
    }
    ctx.body = { status: 'ready', database: s.storage.provider };
  });
  return router;
}
