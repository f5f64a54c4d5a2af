// The one way the service talks to a store: axios over the egress-guarded agents (egress-agent.ts), with a total
// timeout and the caller's hang-up aborting one AbortController. Every HTTP status is a response (a 3xx is
// returned, never followed); only transport failures reject, always with a TransportError (transport-errors.ts).
// Bodies and headers are never logged.
import http from 'node:http';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import axios, { AxiosError, AxiosHeaders, type AxiosResponse } from 'axios';
import { DEFAULT_LIMITS } from '../config.js';
import { createEgressAgents } from './egress-agent.js';
import { describeFailure, errorCode, messageOf } from './failure-reasons.js';
import { isPublicAddress } from './net-policy.js';
import {
  bare,
  EgressDeniedError,
  hostPort,
  InvalidRequestError,
  RequestAbortedError,
  RequestTooLargeError,
  ResponseTooLargeError,
  TransportError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
  type TimeoutPhase,
} from './transport-errors.js';

export interface TransportLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  /** pino's: lets the hot path skip building debug lines nobody will see. */
  isLevelEnabled?(level: string): boolean;
}

export interface TransportOptions {
  /** Development and tests only: allow loopback, private and other non-public addresses. */
  allowPrivate: boolean;
  /** DNS lookup + TCP connect + TLS handshake of a new connection. */
  connectTimeoutMs: number;
  /** Whole request, from the call until the last byte of the body; per-request `timeoutMs` overrides it. */
  totalTimeoutMs: number;
  /** Cap on the (decompressed) response body. */
  maxResponseBytes: number;
  maxRequestBodyBytes?: number;
  logger?: TransportLogger;
  /** Name resolution used at connect time; dns.lookup (all addresses) by default. Tests inject their own. */
  resolve?: (host: string) => Promise<string[]>;
  /**
   * The total timeout's signal, a timer by default. Tests inject one they fire themselves, so that no test depends
   * on how fast a loaded machine connects.
   */
  timeoutSignal?: (ms: number) => AbortSignal;
  /** Certificate authorities to trust instead of node's roots (PEM): tests and private CAs only (egress-agent.ts). */
  ca?: string | string[];
}

export interface TransportRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

export interface TransportResponse {
  status: number;
  /** Lower-case names; an array only for set-cookie (as in node:http). */
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export interface Transport {
  request(req: TransportRequest): Promise<TransportResponse>;
  /** Closes pooled connections. */
  close(): void;
}

const USER_AGENT = 'magento-connector';

const defaultResolve = async (host: string): Promise<string[]> =>
  (await dnsLookup(host, { all: true })).map((a) => a.address);

export function createTransport(options: TransportOptions): Transport {
  const { allowPrivate, connectTimeoutMs, totalTimeoutMs, maxResponseBytes, logger } = options;
  const debug = logger && (logger.isLevelEnabled?.('debug') ?? true) ? logger : undefined;
  const maxRequestBodyBytes = options.maxRequestBodyBytes ?? DEFAULT_LIMITS.maxRequestBodyBytes;
  const agents = createEgressAgents({
    allowPrivate,
    connectTimeoutMs,
    resolve: options.resolve ?? defaultResolve,
    logger,
    ca: options.ca,
  });

  const client = axios.create({
    adapter: 'http',
    httpAgent: agents.httpAgent,
    httpsAgent: agents.httpsAgent,
    proxy: false, // never route through HTTP(S)_PROXY from the environment
    maxRedirects: 0, // a 3xx is returned to the caller; following it would bypass the caller's checks
    validateStatus: () => true,
    responseType: 'arraybuffer',
    decompress: true, // maxContentLength counts decompressed bytes, so a compression bomb hits the cap
    maxContentLength: maxResponseBytes,
    maxBodyLength: maxRequestBodyBytes,
    timeout: 0, // our own total timeout covers the body too; axios's stops at the headers
    transformRequest: [(data: unknown) => data],
    transformResponse: [(data: unknown) => data],
  });

  async function request(req: TransportRequest): Promise<TransportResponse> {
    const target = checkTarget(req.url);
    const { host, port } = target;
    const literal = bare(host);
    if (!allowPrivate && isIP(literal) && !isPublicAddress(literal)) {
      logger?.warn({ host }, 'egress denied: non-public IP address');
      throw new EgressDeniedError(host, port, literal);
    }
    if (req.body !== undefined) {
      const size = typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.length;
      if (size > maxRequestBodyBytes) throw new RequestTooLargeError(size, maxRequestBodyBytes);
    }
    const headers = checkHeaders(req.headers);
    if (!headers.has('user-agent')) headers.set('User-Agent', USER_AGENT);
    if (req.signal?.aborted) throw new RequestAbortedError(host, port);

    // One controller per call, aborted by whichever comes first: the total timeout or the caller's hang-up
    // (cheaper than AbortSignal.timeout + AbortSignal.any, which allocate two more signals and weak references).
    const timeoutMs = req.timeoutMs ?? totalTimeoutMs;
    const controller = new AbortController();
    let firedBy: 'timeout' | 'caller' | undefined;
    const onTimeout = () => {
      firedBy ??= 'timeout';
      controller.abort();
    };
    const onCallerAbort = () => {
      firedBy ??= 'caller';
      controller.abort();
    };
    const injected = options.timeoutSignal?.(timeoutMs);
    const timer = injected ? undefined : setTimeout(onTimeout, timeoutMs).unref();
    injected?.addEventListener('abort', onTimeout, { once: true });
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const started = debug ? performance.now() : 0;
    try {
      const res = await client.request<Buffer>({ url: target.href, method: req.method, headers, data: req.body, signal: controller.signal });
      debug?.debug(
        { method: req.method, host, port, status: res.status, ms: Math.round(performance.now() - started) },
        'upstream response',
      );
      return toResponse(res, req.method);
    } catch (err) {
      const timedOut = firedBy === 'timeout';
      const mapped = mapError(err, { host, port, timedOut, callerAborted: firedBy === 'caller', timeoutMs });
      debug?.debug({ method: req.method, host, port, code: mapped.code }, 'upstream request failed');
      throw mapped;
    } finally {
      clearTimeout(timer);
      injected?.removeEventListener('abort', onTimeout);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  interface FailureContext {
    host: string;
    port: number;
    timedOut: boolean;
    callerAborted: boolean;
    timeoutMs: number;
  }

  function mapError(err: unknown, ctx: FailureContext): TransportError {
    const { host, port } = ctx;
    const clientRequest = axios.isAxiosError(err) ? (err.request as http.ClientRequest | undefined) : undefined;
    const socket = clientRequest?.socket;
    const phase: TimeoutPhase = socket && agents.connected(socket) ? 'response' : 'connect';
    const cause: unknown = err instanceof AxiosError && err.cause ? err.cause : err;

    // Our own errors, raised inside the agent (lookup, createConnection, connect timer): rebuilt with the request's
    // host and port, since net.connect only knew part of them.
    if (cause instanceof EgressDeniedError) return new EgressDeniedError(host, port, cause.address);
    if (cause instanceof UpstreamTimeoutError) return new UpstreamTimeoutError(host, port, 'connect', connectTimeoutMs);
    if (ctx.timedOut) return new UpstreamTimeoutError(host, port, phase, ctx.timeoutMs);
    if (ctx.callerAborted) return new RequestAbortedError(host, port);
    if (err instanceof TransportError) return err;
    // axios reports the cap only through this message (code ERR_BAD_RESPONSE, shared with other failures). The
    // request-body cap is checked before sending, so axios's maxBodyLength is only a backstop.
    if (axios.isAxiosError(err) && err.message.startsWith('maxContentLength size of')) {
      return new ResponseTooLargeError(host, port, maxResponseBytes);
    }
    const code = errorCode(cause) ?? (axios.isAxiosError(err) ? err.code : undefined);
    if (code && /^ERR_(INVALID_|HTTP_INVALID_|UNESCAPED_CHARACTERS)/.test(code)) {
      return new InvalidRequestError(`invalid request to ${hostPort(host, port)}: ${messageOf(cause)}`);
    }
    if (code === 'ETIMEDOUT') return new UpstreamTimeoutError(host, port, 'connect', connectTimeoutMs);
    const reused = clientRequest?.reusedSocket ?? false;
    return new UpstreamUnreachableError(host, port, describeFailure(code, cause, host), phase, reused, { cause });
  }

  return { request, close: () => agents.destroy() };
}

interface Target {
  href: string;
  /** As in the URL: IPv6 literals keep their brackets. */
  host: string;
  port: number;
}

function checkTarget(raw: string): Target {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidRequestError('the request URL is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidRequestError(`cannot send a request to a "${url.protocol}" URL: only http and https are supported`);
  }
  if (url.username || url.password) throw new InvalidRequestError('the request URL must not contain credentials');
  return { href: url.href, host: url.hostname, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
}

/** axios would silently strip control and non-Latin-1 characters from header values: refuse them instead. */
function checkHeaders(given: Record<string, string> | undefined): AxiosHeaders {
  const headers = new AxiosHeaders();
  for (const [name, value] of Object.entries(given ?? {})) {
    try {
      http.validateHeaderName(name);
      http.validateHeaderValue(name, value);
    } catch {
      // The value is not quoted: it may be a credential.
      const shown = name.replace(/[^\x21-\x7e]/g, '?');
      throw new InvalidRequestError(`the request header "${shown}" has an invalid name or value`);
    }
    headers.set(name, value);
  }
  return headers;
}

function toResponse(res: AxiosResponse<Buffer>, method: string): TransportResponse {
  const body = Buffer.isBuffer(res.data) ? res.data : Buffer.from(res.data ?? []);
  const headers: Record<string, string | string[]> = {};
  const raw = res.headers instanceof AxiosHeaders ? res.headers.toJSON() : res.headers;
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || value === null || value === false) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value);
  }
  // axios removes Content-Encoding when it decompresses but leaves the compressed length: drop what no longer
  // describes the body we return.
  const length = headers['content-length'];
  if (
    typeof length === 'string' &&
    Number(length) !== body.length &&
    method.toUpperCase() !== 'HEAD' &&
    res.status !== 204 &&
    res.status !== 304
  ) {
    delete headers['content-length'];
  }
  return { status: res.status, headers, body };
}
