// Magento's two token endpoints (docs/magento-protocol.md §4 and §5). One call each, no retries here: whether a retry is safe
// depends on the activation's state, which the caller knows.
import type { Clock } from '../clock.js';
import { MagentoOAuthProblem, UnexpectedStoreResponse } from './magento-errors.js';
import { createSigner, type SignedRequest } from './signer.js';
import type { Transport } from './transport.js';

export interface StoreConsumer {
  storeBaseUrl: string;
  consumerKey: string;
  consumerSecret: string;
}

export interface TokenPair {
  token: string;
  secret: string;
}

export interface TokenEndpoints {
  /** POST {store}oauth/token/request. */
  requestToken(store: StoreConsumer): Promise<TokenPair>;
  /** POST {store}oauth/token/access with the request token and the verifier it belongs to. */
  accessToken(store: StoreConsumer, requestToken: TokenPair, verifier: string): Promise<TokenPair>;
}

export interface TokenEndpointOptions {
  transport: Transport;
  timeoutMs: number;
  clock?: Clock;
}

// Magento's token values are 32 characters of [0-9a-z]; accept any sane token so a change does not break us.
const TOKEN_VALUE = /^[A-Za-z0-9._~-]{1,128}$/;

/** Reads a token-endpoint answer. Magento often labels it text/html: parse the body as a form regardless. */
export function parseTokenResponse(status: number, body: Buffer, contentType: string | undefined): TokenPair {
  const text = body.subarray(0, 64 * 1024).toString('utf8');
  const form = new URLSearchParams(text.trim());
  const problem = form.get('oauth_problem');
  if (problem !== null) throw new MagentoOAuthProblem(status, problem);
  const token = form.get('oauth_token');
  const secret = form.get('oauth_token_secret');
  if (status === 200 && token && secret && TOKEN_VALUE.test(token) && TOKEN_VALUE.test(secret)) {
    return { token, secret };
  }
  const hint =
    status >= 300 && status < 400
      ? 'a redirect: check the store URL, including http/https and www'
      : status === 404
        ? 'not found: is this a Magento 2 store, and is the store URL its base URL?'
        : `${contentType ?? 'no content type'}, not oauth_token=...&oauth_token_secret=...`;
  throw new UnexpectedStoreResponse(status, hint);
}

export function createTokenEndpoints(options: TokenEndpointOptions): TokenEndpoints {
  const { transport, timeoutMs, clock } = options;

  async function post(signed: SignedRequest): Promise<TokenPair> {
    const response = await transport.request({
      method: 'POST',
      url: signed.url,
      headers: { Authorization: signed.authorization, Accept: '*/*', 'Content-Length': '0' },
      body: '',
      timeoutMs,
    });
    const type = response.headers['content-type'];
    return parseTokenResponse(response.status, response.body, Array.isArray(type) ? type[0] : type);
  }

  const signer = (store: StoreConsumer) =>
    createSigner({ key: store.consumerKey, secret: store.consumerSecret }, clock ? { clock } : {});

  return {
    requestToken(store) {
      return post(signer(store).requestToken({ url: `${store.storeBaseUrl}oauth/token/request` }));
    },
    accessToken(store, requestToken, verifier) {
      return post(
        signer(store).accessToken({
          url: `${store.storeBaseUrl}oauth/token/access`,
          requestToken: { key: requestToken.token, secret: requestToken.secret },
          verifier,
        }),
      );
    },
  };
}
