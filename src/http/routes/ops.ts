// Operations: /healthz says the process is up; /readyz says this instance can serve (load balancers route on it):
// the database answers, accepts writes (a read-only file or a standby serves no sign-in or activation), and the
// secrets key opens what the database holds. A "no" says why, in the answer and the log.
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
