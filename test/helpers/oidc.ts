// A real OpenID provider in the test process: panva's oidc-provider (the reference implementation) over real HTTP,
// with one confidential client for the connector and a few users, its login form (devInteractions) driven by the
// cookie-keeping Browser of connector.ts. Test knobs: rewrite the ID token it returns (another audience, another
// issuer, a past expiry, a wrong nonce, another signing key), shorten the authorization code's life, and stop the
// server (provider down).
//
//   const idp = await startProvider(t);                       // listening: its issuer URL is known
//   const connector = await startConnector(backend, t, { env: idp.connectorEnv() });
//   idp.register(`${connector.url}/oidc/callback`);          // the client's redirect URI, now that the port is known
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';
import type { Browser, PageResponse } from './connector.js';

export interface TestUser {
  /** What a person types in the provider's login form; also the `sub`. */
  login: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export const CLIENT_ID = 'magento-connector';
export const CLIENT_SECRET = 'a-client-secret-of-at-least-32-characters-long';

export interface TestProvider {
  issuer: string;
  users: Map<string, TestUser>;
  /** The env that points a connector at this provider. */
  connectorEnv(extra?: Record<string, string>): Record<string, string>;
  /** Builds the provider with the connector's redirect URI (call once, after the connector is listening). */
  register(redirectUri: string): Promise<void>;
  /** Changes the ID token the token endpoint returns: claims to overwrite, or another signing key. */
  rewriteIdToken: ((claims: JWTPayload) => JWTPayload) | null;
  signWithForeignKey: boolean;
  /** Life of authorization codes, seconds (oidc-provider's default: 60). */
  codeTtlSeconds: number;
  /** Token-endpoint requests the provider served. */
  tokenRequests: number;
  /** Stops listening and drops open connections: the provider is down. */
  down(): Promise<void>;
}

export async function startProvider(t: ExecutionContext, users: TestUser[] = []): Promise<TestProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server: Server = createServer((req, res) => {
    if (handler) return handler(req, res);
    res.statusCode = 503;
    res.end('not configured yet');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  const down = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  t.teardown(down);

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const foreign = await generateKeyPair('RS256', { extractable: true });

  const idp: TestProvider = {
    issuer,
    users: new Map(users.map((u) => [u.login, u])),
    connectorEnv: (extra = {}) => ({
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      OIDC_NAME: 'Acme CRM',
      OIDC_ALLOW_HTTP: 'true',
      ...extra,
    }),
    rewriteIdToken: null,
    signWithForeignKey: false,
    codeTtlSeconds: 60,
    tokenRequests: 0,
    down,
    async register(redirectUri) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        jwks: { keys: [jwk] },
        cookies: { keys: ['test-cookie-signing-key'] },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
        // The claims in the ID token itself, as many CRMs' providers do (the connector reads no userinfo).
        conformIdTokenClaims: false,
        pkce: { required: () => true },
        ttl: { AuthorizationCode: () => idp.codeTtlSeconds, AccessToken: 600, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
        findAccount: async (_ctx: unknown, id: string) => {
          const user = idp.users.get(id);
          if (!user) return undefined;
          return {
            accountId: id,
            claims: async () => ({ sub: id, email: user.email, email_verified: user.email_verified, name: user.name }),
          };
        },
        // A first-party client: no consent screen, the grant is made on the spot.
        // oidc-provider's context is untyped here; only these fields are read.
        loadExistingGrant: async (ctx: { oidc: { result?: { consent?: { grantId?: string } }; session: { accountId: string; grantIdFor(id: string): string | undefined }; client: { clientId: string }; provider: { Grant: { find(id: string): Promise<unknown>; new (o: object): { addOIDCScope(s: string): void; save(): Promise<string> } } } } }) => {
          const { oidc } = ctx;
          const existing = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
          if (existing) return oidc.provider.Grant.find(existing);
          const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
          grant.addOIDCScope('openid email profile');
          await grant.save();
          return grant;
        },
        features: { devInteractions: { enabled: true } },
      });
      // The knobs: the token endpoint's answer is rewritten after the provider made it.
      provider.use(async (ctx: { path: string; body?: { id_token?: string } }, next) => {
        await next();
        if (ctx.path !== '/token') return;
        idp.tokenRequests++;
        const idToken = ctx.body?.id_token;
        if (!idToken || (!idp.rewriteIdToken && !idp.signWithForeignKey)) return;
        const claims = idp.rewriteIdToken ? idp.rewriteIdToken(decodeJwt(idToken)) : decodeJwt(idToken);
        const header = decodeProtectedHeader(idToken);
        ctx.body!.id_token = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? 'test-key-1', typ: 'JWT' })
          .sign(idp.signWithForeignKey ? foreign.privateKey : privateKey);
      });
      handler = provider.callback();
    },
  };
  return idp;
}

/** Follows redirects (GET) within the connector and the provider until `stop` says so; returns the last answer. */
export async function follow(browser: Browser, res: PageResponse, base: string, stop: (url: URL) => boolean, max = 10): Promise<{ res: PageResponse; url: URL }> {
  let url = new URL(base);
  for (let i = 0; i < max && res.location && [302, 303, 307].includes(res.status); i++) {
    url = new URL(res.location, url);
    if (stop(url)) return { res, url };
    res = await browser.get(url.href);
  }
  return { res, url };
}

/**
 * From the connector's answer to "Sign in with ..." (a redirect to the provider), through the provider's login form
 * as `login`, up to the provider's redirect back to the connector: returns that callback URL, not yet followed.
 */
export async function signInAtProvider(browser: Browser, start: PageResponse, connectorUrl: string, login: string): Promise<URL> {
  if (start.status !== 303 || !start.location) throw new Error(`the connector did not redirect to the provider: ${start.status} ${start.text.slice(0, 300)}`);
  const isCallback = (u: URL) => u.href.startsWith(`${connectorUrl}/oidc/callback`);
  let { res, url } = await follow(browser, start, connectorUrl, isCallback);
  if (isCallback(url)) return url;
  // The provider's login form.
  const action = /<form[^>]*action="([^"]+)"/.exec(res.text)?.[1];
  if (res.status !== 200 || !action) throw new Error(`no login form at the provider: ${res.status} ${res.text.slice(0, 300)}`);
  const posted = await browser.post(new URL(action, url).href, { prompt: 'login', login, password: 'any' });
  ({ url } = await follow(browser, posted, url.href, isCallback));
  if (!isCallback(url)) throw new Error(`the provider did not redirect back: ${url.href} ${posted.status}`);
  return url;
}
