// POST {store_base_url}oauth/token/request and .../access: Magento\Integration\Controller\Token\{Request,Access}.
// Body: http_build_query of the token pair, or of oauth_problem=<message>; status 400/401/500 by exception type;
// content type text/html (a frontend action's default).
import type { Context } from 'koa';
import { incomingRequest } from './http.js';
import { OauthServer, PhpTypeError, requestUrl, tokenEndpointError } from './oauth.js';
import { httpBuildQuery } from './php.js';
import type { MagentoTables } from './tokens.js';

export interface TokenEndpointOptions {
  oauth: OauthServer;
  tables: MagentoTables;
  offloaderHeader: string;
}

type Step = 'request' | 'access';

/** What PHP's default error page answers when an \Error (not an \Exception) escapes the controller. */
const PHP_ERROR_PAGE = '<!doctype html><html><body><h1>There has been an error processing your request</h1></body></html>';

export function tokenEndpoint(step: Step, o: TokenEndpointOptions) {
  return async function oauthToken(ctx: Context): Promise<void> {
    const req = await incomingRequest(ctx, o.offloaderHeader);
    ctx.type = 'text/html; charset=UTF-8';
    try {
      const verifier = o.oauth.verifierFor(req);
      const params = verifier.prepare(req);
      const url = requestUrl(req);
      let issued;
      if (step === 'request') {
        issued = o.oauth.getRequestToken(params, url, req.method, verifier);
      } else {
        const { consumer, ...pair } = o.oauth.getAccessToken(params, url, req.method, verifier);
        // Controller\Token\Access: after the exchange, the integration becomes Active.
        const integration = o.tables.integrationByConsumerId(consumer.id);
        if (integration) o.tables.setIntegrationStatus(integration.id, 'active');
        issued = pair;
      }
      ctx.status = 200;
      ctx.body = httpBuildQuery({ oauth_token: issued.oauth_token, oauth_token_secret: issued.oauth_token_secret });
    } catch (e) {
      if (e instanceof PhpTypeError) {
        ctx.status = 500;
        ctx.body = PHP_ERROR_PAGE;
        return;
      }
      const { status, problem } = tokenEndpointError(e);
      ctx.status = status;
      ctx.body = httpBuildQuery({ oauth_problem: problem });
    }
  };
}
