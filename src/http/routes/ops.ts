// Operations: /healthz says the process is up; /readyz says the database answers (load balancers route on it).
import Router from '@koa/router';
import type { HttpServices } from '../context.js';
import type { BaseState } from '../state.js';

export function opsRoutes({ readiness }: HttpServices): Router<BaseState> {
  const router = new Router<BaseState>();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // StorageUnavailableError (database_unavailable, 503) reaches the one error handler.
  router.get('/readyz', async (ctx) => {
    ctx.body = { status: 'ready', ...(await readiness()) };
  });
  return router;
}
