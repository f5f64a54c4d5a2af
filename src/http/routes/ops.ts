// Operations: /healthz says the process is up; /readyz says the database answers (load balancers route on it).
import Router from '@koa/router';
import type { HttpServices } from '../context.js';
import { HttpError } from '../errors.js';
import type { BaseState } from '../state.js';

export function opsRoutes({ storage, logger }: HttpServices): Router<BaseState> {
  const router = new Router<BaseState>();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      await storage.ping();
    } catch (err) {
      // Readiness answers "no" whatever the reason, and says why in the log.
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'readiness: database unreachable');
      throw new HttpError('database_unavailable', 'The database cannot be reached.', { cause: err });
    }
    ctx.body = { status: 'ready', database: storage.provider };
  });
  return router;
}
