// Sign-in with an OpenID Connect provider, through openid-client 6: discovery from the issuer, the authorization
// code flow with PKCE (S256), `state` and `nonce`, and the ID token's checks (issuer, audience, expiry, nonce, and its
// signature against the provider's JWKS, enabled with enableNonRepudiationChecks). No JWT is checked by hand here.
// Knows nothing of Koa: the HTTP layer keeps the flow's secrets in a sealed cookie (flow-cookie.ts).
import * as client from 'openid-client';
import type { OidcConfig } from '../config.js';
import type { Logger } from '../log.js';
import { IdentityError } from './errors.js';
import type { VerifiedClaims } from './linking.js';

/** What the browser must bring back: kept in the flow cookie, never in the URL except `state`. */
export interface OidcFlowSecrets {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OidcClientOptions {
  config: OidcConfig;
  logger: Logger;
  /** The redirect URI registered at the provider: PUBLIC_URL/oidc/callback (read per use: tests learn the port late). */
  redirectUri: () => string;
  /** Seconds each call to the provider may take. */
  timeoutSeconds?: number;
  /** How long the discovered configuration (and its JWKS cache) is reused. */
  discoveryTtlMs?: number;
}

const SCOPE = 'openid email profile';

export class OidcClient {
  private discovered: { at: number; config: Promise<client.Configuration> } | null = null;

  constructor(private readonly o: OidcClientOptions) {}

  get name(): string {
    return this.o.config.name;
  }

  /** The provider's configuration, discovered on first use (so the connector starts while the provider is down). */
  private configuration(): Promise<client.Configuration> {
    const ttl = this.o.discoveryTtlMs ?? 3600_000;
    if (this.discovered && Date.now() - this.discovered.at < ttl) return this.discovered.config;
    const { issuer, clientId, clientSecret, allowHttp } = this.o.config;
    const execute = [client.enableNonRepudiationChecks];
    // Only for an http:// issuer the configuration allowed (OIDC_ALLOW_HTTP): a provider on this machine, tests.
    if (allowHttp && new URL(issuer).protocol === 'http:') execute.push(client.allowInsecureRequests);
    const config = client
      .discovery(new URL(issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), {
        execute,
        timeout: this.o.timeoutSeconds ?? 10,
      })
      .catch((err: unknown) => {
        this.discovered = null; // try again next time
        throw this.providerError(err, 'discovery');
      });
    this.discovered = { at: Date.now(), config };
    return config;
  }

  /** Starts a sign-in: the URL to send the browser to, and the secrets it must bring back. */
  async start(): Promise<{ url: string; secrets: OidcFlowSecrets }> {
    const config = await this.configuration();
    const codeVerifier = client.randomPKCECodeVerifier();
    const secrets: OidcFlowSecrets = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.o.redirectUri(),
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: secrets.state,
      nonce: secrets.nonce,
    });
    return { url: url.href, secrets };
  }

  /**
   * Finishes a sign-in from the callback's query: checks the state, redeems the code with the PKCE verifier and
   * validates the ID token. Returns the identity's verified claims.
   */
  async finish(query: string, secrets: OidcFlowSecrets): Promise<VerifiedClaims> {
    const config = await this.configuration();
    const current = new URL(this.o.redirectUri());
    current.search = query;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: secrets.codeVerifier,
        expectedState: secrets.state,
        expectedNonce: secrets.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw this.providerError(err, 'token');
    }
    const claims = tokens.claims();
    if (!claims) throw new IdentityError('id_token_invalid', `${this.name} did not send an ID token.`);
    const email = typeof claims.email === 'string' ? claims.email : null;
    // Some providers send the claim as a string.
    const verified = claims.email_verified === true || claims.email_verified === 'true';
    return { issuer: claims.iss, subject: claims.sub, email, emailVerified: verified };
  }

  /** Maps openid-client's errors onto ours, with a message a person can act on; logs the details. */
  private providerError(err: unknown, during: 'discovery' | 'token'): IdentityError {
    if (err instanceof IdentityError) return err;
    const name = this.name;
    const e = err as { code?: string; error?: string; error_description?: string; message?: string; cause?: unknown; name?: string };
    this.o.logger.warn({ during, code: e.code, error: e.error, message: e.message, cause: (e.cause as Error | undefined)?.message }, 'OpenID provider call failed');
    if (err instanceof client.AuthorizationResponseError || err instanceof client.ResponseBodyError) {
      const what = e.error_description ? `${e.error}: ${e.error_description}` : (e.error ?? 'an error');
      const access = e.error === 'access_denied';
      return new IdentityError(
        'provider_refused',
        access ? `The sign-in with ${name} was cancelled or refused.` : `${name} refused the sign-in (${what}). Start the sign-in again.`,
        { cause: err },
      );
    }
    const code = e.code ?? '';
    // oauth4webapi names the claim that failed (aud, iss, nonce, exp...): worth telling an administrator.
    let detail = e.message ?? code;
    for (let c: unknown = err, depth = 0; c && typeof c === 'object' && depth < 4; c = (c as { cause?: unknown }).cause, depth++) {
      const claim = (c as { claim?: unknown }).claim;
      if (typeof claim === 'string') {
        detail = `the "${claim}" claim is not what we expected`;
        break;
      }
    }
    if (during === 'token' && /^OAUTH_(JWT_|INVALID_RESPONSE|JSON_ATTRIBUTE|UNSUPPORTED_JWS|JWS_|RESPONSE_BODY|JWT_USERINFO)|ERR_JOSE|JWS/.test(code + (e.name ?? ''))) {
      return new IdentityError('id_token_invalid', `The answer from ${name} did not pass our checks (${detail}), so you are not signed in. Start the sign-in again; if it keeps failing, tell your administrator.`, { cause: err });
    }
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.name === 'TypeError' || /fetch failed|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|timeout/i.test(`${e.message} ${(e.cause as Error | undefined)?.message ?? ''}`) || during === 'discovery') {
      return new IdentityError('provider_unreachable', `We could not reach ${name} right now, so nothing was changed. Try again in a few minutes; if it keeps failing, tell your administrator.`, { cause: err });
    }
    return new IdentityError('id_token_invalid', `The answer from ${name} did not pass our checks (${detail}), so you are not signed in. Start the sign-in again.`, { cause: err });
  }
}
