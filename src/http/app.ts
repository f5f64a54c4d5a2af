// The Koa app: a tiny core of one-job middleware, then the route groups.
import Koa from 'koa';
import type { HttpServices } from './context.js';
import { jsonErrors } from './errors.js';
import { accessLog, requestId, securityHeaders } from './middleware.js';
import { accountRoutes } from './routes/account.js';
import { apiRoutes } from './routes/api.js';
import { magentoRoutes } from './routes/magento.js';
import { opsRoutes } from './routes/ops.js';
import { oidcRoutes } from './routes/oidc.js';
import { passwordRoutes } from './routes/password.js';

export function createHttpApp(s: HttpServices): Koa {
  const app = new Koa({ proxy: s.config.trustProxy });
  app.silent = true; // errors are logged by jsonErrors, with the request id
  app.use(requestId);
  app.use(accessLog(s.logger));
  app.use(securityHeaders);
  app.use(jsonErrors(s.logger));
  // The API first: it carries the traffic, and each router matches the path against all of its routes.
  // issue 14: the identity routers come before magento/account: with LOCAL_ACCOUNTS=false passwordRoutes answers
  // their email+password forms with 404.
  for (const router of [apiRoutes(s), opsRoutes(s), oidcRoutes(s), passwordRoutes(s), magentoRoutes(s), accountRoutes(s)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
