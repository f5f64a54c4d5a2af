// The Koa app: a tiny core of one-job middleware, the one error handler, then the route groups.
import Koa from 'koa';
import type { HttpServices } from './context.js';
import { handleErrors } from './error-handler.js';
import { FlashMessages } from './flash.js';
import { accessLog, requestId, securityHeaders } from './middleware.js';
import { accountRoutes } from './routes/account.js';
import { accountsApiRoutes } from './routes/accounts-api.js';
import { apiRoutes, proxyRoute } from './routes/api.js';
import { connectCredentialsRoutes } from './routes/connect-credentials.js';
import { assetRoutes } from './routes/assets.js';
import { identityPopupRoutes } from './routes/identity-popup.js';
import { magentoCallbackRoutes } from './routes/magento-callback.js';
import { metricsRoutes } from './routes/metrics.js';
import { webhooksApiRoutes } from './routes/webhooks-api.js';
import { opsRoutes } from './routes/ops.js';
import { oidcRoutes } from './routes/oidc.js';
import { passwordRoutes } from './routes/password.js';

export function createHttpApp(services: HttpServices): Koa {
  // Behind TRUST_PROXY, ctx.ip is the X-Forwarded-For entry our outermost proxy added (maxIpsCount keeps only the
  // right-most TRUSTED_PROXY_COUNT entries): the left-most ones are the client's to choose, and would let a guesser
  // pick a fresh address for every sign-in attempt.
  const app = new Koa({ proxy: services.config.trustProxy, maxIpsCount: services.config.trustedProxyCount });
  app.silent = true; // errors are logged by handleErrors, with the request id
  app.use(requestId);
  app.use(accessLog(services.logger));
  app.use(securityHeaders);
  app.use(handleErrors(services));
  // The flash key is derived from the CSRF key (itself derived from the secrets key): every instance opens it.
  const flash = new FlashMessages(services.csrfKey, services.config, services.clock);
  // The proxy first, before every router: nothing else answers its paths, and a request it takes passes no router.
  app.use(proxyRoute(services) as Koa.Middleware);
  // The API next: it carries the rest of the traffic, and each router matches the path against all of its routes.
  const routers = [
    // The operator routers before apiRoutes, whose catch-all answers every other /api path with 404.
    accountsApiRoutes(services),
    ...connectCredentialsRoutes(services, { flash }), // issue 17: POST /api/accounts/:id/stores and the account page's form
    webhooksApiRoutes(services),
    apiRoutes(services),
    metricsRoutes(services),
    opsRoutes(services),
    magentoCallbackRoutes(services),
    // The identity routers come before the popup and account routers: with LOCAL_ACCOUNTS=false passwordRoutes
    // answers their email+password forms with 404.
    oidcRoutes(services),
    passwordRoutes(services),
    identityPopupRoutes(services),
    accountRoutes(services, { flash }),
    assetRoutes(),
  ];
  for (const router of routers) {
    app.use(router.routes() as Koa.Middleware);
    app.use(router.allowedMethods() as Koa.Middleware);
  }
  return app;
}
