// Shared pieces of the mock store's tests: a started store, a callback receiver standing in for the connector,
// raw HTTP (own Host header, raw path), and the activation steps a third party performs.
import type { ExecutionContext } from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMockStore, type MockStore, type MockStoreOptions } from '../../src/mock-store/app.js';
import type { CallbackFields } from '../../src/mock-store/callback.js';
import { sign, type SignInput } from './signer.js';

export async function startStore(t: ExecutionContext, options: MockStoreOptions = {}): Promise<MockStore> {
  const store = createMockStore({ testMode: true, onError: (e) => t.log('mock-store error', e), ...options });
  await store.start(0);
  t.teardown(() => store.close());
  return store;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method: string;
  /** Absolute URL; its host and port are where the request goes. */
  url: string;
  /** Request target to send instead of the URL's path and query (sent byte for byte). */
  target?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One HTTP request with full control of the Host header and the request target. */
export function raw(req: RawRequest): Promise<RawResponse> {
  const u = new URL(req.url);
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: u.hostname,
        port: u.port,
        method: req.method,
        path: req.target ?? u.pathname + u.search,
        headers: { ...(req.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(req.body)) } : {}), ...req.headers },
        setHost: !req.headers || !Object.keys(req.headers).some((h) => h.toLowerCase() === 'host'),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

export const json = (r: RawResponse): unknown => JSON.parse(r.body);
export const form = (body: string): Record<string, string> => Object.fromEntries(new URLSearchParams(body));

/** The four fields of Magento's callback POST (one type, the mock's). */
export type Callback = CallbackFields;

export interface Receiver {
  url: string;
  /** Every callback POST received, in order (parsed form fields plus raw details). */
  received: { fields: Callback; contentType: string | undefined; rawBody: string; method: string }[];
  /** How the receiver answers; default 200 "ok". */
  respond: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

/** A stand-in for the connector's Callback URL. */
export async function callbackReceiver(t: ExecutionContext): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    received: [],
    respond: (_req, res) => {
      res.end('ok');
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST') {
        receiver.received.push({
          fields: form(rawBody) as unknown as Callback,
          contentType: req.headers['content-type'],
          rawBody,
          method: req.method,
        });
      }
      receiver.respond(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/magento/callback`;
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return receiver;
}

export const IDENTITY_URL = 'https://connector.example/magento/identity';

/** Creates an integration pointing at the receiver and clicks Activate; returns what the callback carried. */
export async function createAndActivate(store: MockStore, receiver: Receiver, name = `Connector ${Math.random()}`) {
  const integration = store.admin.create({ name, callbackUrl: receiver.url, identityLinkUrl: IDENTITY_URL });
  const result = await store.admin.activate(integration.id);
  const callback = receiver.received.at(-1)!.fields;
  return { integration, result, callback };
}

export interface Creds {
  consumerKey: string;
  consumerSecret: string;
  token?: string;
  tokenSecret?: string;
}

type SignExtras = Omit<SignInput, 'method' | 'url' | 'consumerKey' | 'consumerSecret'>;

/** A signed request: signs exactly the URL it sends (the helper a correct client is). */
export function signed(
  method: string,
  url: string,
  creds: Creds,
  extras: SignExtras & { headers?: Record<string, string>; body?: string; target?: string } = {},
): Promise<RawResponse> {
  const { headers, body, target, ...signExtras } = extras;
  const s = sign({ method, url, ...creds, ...signExtras });
  return raw({ method, url, target, body, headers: { Authorization: s.authorization, ...headers } });
}

export async function requestToken(baseUrl: string, cb: Callback, extras: SignExtras = {}): Promise<RawResponse> {
  return signed('POST', `${baseUrl}oauth/token/request`, { consumerKey: cb.oauth_consumer_key, consumerSecret: cb.oauth_consumer_secret }, extras);
}

export async function accessToken(
  baseUrl: string,
  cb: Callback,
  request: { oauth_token: string; oauth_token_secret: string },
  extras: SignExtras = {},
): Promise<RawResponse> {
  return signed(
    'POST',
    `${baseUrl}oauth/token/access`,
    {
      consumerKey: cb.oauth_consumer_key,
      consumerSecret: cb.oauth_consumer_secret,
      token: request.oauth_token,
      tokenSecret: request.oauth_token_secret,
    },
    { verifier: cb.oauth_verifier, ...extras },
  );
}

/** Callback -> request token -> access token; returns REST credentials. */
export async function fullyActivate(store: MockStore, receiver: Receiver, name?: string) {
  const { integration, callback } = await createAndActivate(store, receiver, name);
  const rt = await requestToken(store.baseUrl, callback);
  if (rt.status !== 200) throw new Error(`request token failed: ${rt.status} ${rt.body}`);
  const request = form(rt.body) as { oauth_token: string; oauth_token_secret: string };
  const at = await accessToken(store.baseUrl, callback, request);
  if (at.status !== 200) throw new Error(`access token failed: ${at.status} ${at.body}`);
  const access = form(at.body) as { oauth_token: string; oauth_token_secret: string };
  const creds: Creds = {
    consumerKey: callback.oauth_consumer_key,
    consumerSecret: callback.oauth_consumer_secret,
    token: access.oauth_token,
    tokenSecret: access.oauth_token_secret,
  };
  return { integration, callback, creds };
}

/** oauth_problem from a token endpoint's error body, decoded. */
export const problem = (r: RawResponse): string | undefined => form(r.body).oauth_problem;
