// The Koa app: a tiny core of one-job middleware, then the route groups.
import Koa from 'koa';
import type { HttpServices } from './context.js';
import { jsonErrors } from './errors.js';
import { accessLog, requestId, securityHeaders } from './middleware.js';
import { accountRoutes } from './routes/account.js';
import { accountsApiRoutes } from './routes/accounts-api.js'; // crm
import { apiRoutes } from './routes/api.js';
import { webhooksApiRoutes } from './routes/webhooks-api.js'; // crm
import { metricsRoutes } from './routes/metrics.js'; // crm
import { magentoRoutes } from './routes/magento.js';
import { opsRoutes } from './routes/ops.js';

export function createHttpApp(s: HttpServices): Koa {
  const app = new Koa({ proxy: s.config.trustProxy });
  app.silent = true; // errors are logged by jsonErrors, with the request id
  app.use(requestId);
  app.use(accessLog(s.logger));
  app.use(securityHeaders);
  app.use(jsonErrors(s.logger));
  // The API first: it carries the traffic, and each router matches the path against all of its routes.
  // crm: the operator routers before apiRoutes, whose catch-all answers every other /api path with 404.
  for (const router of [accountsApiRoutes(s), webhooksApiRoutes(s), apiRoutes(s), metricsRoutes(s), opsRoutes(s), magentoRoutes(s), accountRoutes(s)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
