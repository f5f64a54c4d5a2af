// The one way the service talks to a store: axios over the egress-guarded agents (egress-agent.ts), with a total
// timeout and the caller's hang-up aborting one AbortController. Every HTTP status is a response (a 3xx is
// returned, never followed); only transport failures reject, always with a TransportError (transport-errors.ts).
// Bodies and headers are never logged.
//
// The body is read here, chunk by chunk (axios in stream mode, decompressed), so that every byte counts at once
// against the per-response cap and against the response budgets (ResponseBudget: all calls of the instance, and
// the caller's own, e.g. an account's): a store that sends 19 MiB and then stalls holds that memory only within
// them (issue 13).
import http from 'node:http';
import type { Readable } from 'node:stream';
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
  ResponseBudgetExceededError,
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
  /**
   * The bytes all responses being received at once may hold (decompressed), across every request of this
   * transport; none: unbounded (tests of other things). A response that would exceed it fails.
   */
  responseBudget?: ResponseBudget;
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
  /** The caller's own budget for this response's bytes besides the transport's (e.g. the account's calls). */
  budget?: ResponseBudget | undefined;
}

/**
 * Room for response bytes while they are received: taken chunk by chunk, given back when the response has been
 * handed over (or has failed). Counters only: no allocation per request.
 */
export interface ResponseBudget {
  /** Takes room for `bytes`; false (and nothing taken) when there is not that much left. */
  take(bytes: number): boolean;
  /** Counts `bytes` already held (a received answer still being written to its caller), even past the limit. */
  hold(bytes: number): void;
  release(bytes: number): void;
  /** Bytes held now. */
  readonly used: number;
  readonly limitBytes: number;
  /** Whose budget it is, for the error: every call of this instance, or one account's calls. */
  readonly scope: ResponseBudgetScope;
}

export type ResponseBudgetScope = 'instance' | 'account';

export function createResponseBudget(limitBytes: number, scope: ResponseBudgetScope): ResponseBudget {
  let used = 0;
  return {
    take(bytes) {
      if (used + bytes > limitBytes) return false;
      used += bytes;
      return true;
    },
    hold(bytes) {
      used += bytes;
    },
    release(bytes) {
      used = Math.max(0, used - bytes);
    },
    get used() {
      return used;
    },
    limitBytes,
    scope,
  };
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
  const { allowPrivate, connectTimeoutMs, totalTimeoutMs, maxResponseBytes, logger, responseBudget } = options;
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
    // The body is read by readBody, which counts decompressed bytes against the cap and the budgets as they come
    // (so a compression bomb hits the cap); axios's own maxContentLength would wrap the stream once more.
    responseType: 'stream',
    decompress: true,
    maxContentLength: -1,
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
    let inBody = false;
    try {
      const res = await client.request<Readable>({ url: target.href, method: req.method, headers, data: req.body, signal: controller.signal });
      inBody = true;
      const body = await readBody(res.data, { host, port, budgets: [responseBudget, req.budget] });
      debug?.debug(
        { method: req.method, host, port, status: res.status, ms: Math.round(performance.now() - started) },
        'upstream response',
      );
      return toResponse(res, body, req.method);
    } catch (err) {
      const timedOut = firedBy === 'timeout';
      const mapped = mapError(err, { host, port, timedOut, callerAborted: firedBy === 'caller', timeoutMs, inBody });
      debug?.debug({ method: req.method, host, port, code: mapped.code }, 'upstream request failed');
      throw mapped;
    } finally {
      clearTimeout(timer);
      injected?.removeEventListener('abort', onTimeout);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  /**
   * Reads a response body to its end, each chunk counted against the cap and taken from the budgets as it comes;
   * what was taken is given back however it ends. Past the cap or a budget, the response is destroyed (its
   * connection closed: the rest of the body is never read).
   */
  function readBody(
    stream: Readable,
    at: { host: string; port: number; budgets: Array<ResponseBudget | undefined> },
  ): Promise<Buffer> {
    const budgets = at.budgets.filter((b): b is ResponseBudget => b !== undefined);
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const finish = (err: unknown, body?: Buffer): void => {
        if (settled) return;
        settled = true;
        for (const budget of budgets) budget.release(size);
        if (err === undefined) resolve(body!);
        else reject(err);
      };
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (size + chunk.length > maxResponseBytes) return fail(new ResponseTooLargeError(at.host, at.port, maxResponseBytes));
        for (let i = 0; i < budgets.length; i++) {
          if (budgets[i]!.take(chunk.length)) continue;
          for (let j = 0; j < i; j++) budgets[j]!.release(chunk.length);
          return fail(new ResponseBudgetExceededError(at.host, at.port, budgets[i]!.scope, budgets[i]!.limitBytes));
        }
        size += chunk.length;
        chunks.push(chunk);
      });
      stream.once('end', () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
      stream.once('error', (err) => finish(err));
      // Closed without an end or an error: the connection went away mid-body.
      stream.once('close', () => finish(Object.assign(new Error('the connection closed before the response was complete'), { code: 'ECONNRESET' })));
      function fail(err: TransportError): void {
        finish(err);
        stream.destroy();
      }
    });
  }

  interface FailureContext {
    host: string;
    port: number;
    timedOut: boolean;
    callerAborted: boolean;
    timeoutMs: number;
    /** The headers had come: a failure now is one of the response (its body). */
    inBody: boolean;
  }

  function mapError(err: unknown, ctx: FailureContext): TransportError {
    const { host, port } = ctx;
    const clientRequest = axios.isAxiosError(err) ? (err.request as http.ClientRequest | undefined) : undefined;
    const socket = clientRequest?.socket;
    const phase: TimeoutPhase = ctx.inBody || (socket && agents.connected(socket)) ? 'response' : 'connect';
    const cause: unknown = err instanceof AxiosError && err.cause ? err.cause : err;

    // Our own errors, raised inside the agent (lookup, createConnection, connect timer): rebuilt with the request's
    // host and port, since net.connect only knew part of them.
    if (cause instanceof EgressDeniedError) return new EgressDeniedError(host, port, cause.address);
    if (cause instanceof UpstreamTimeoutError) return new UpstreamTimeoutError(host, port, 'connect', connectTimeoutMs);
    if (ctx.timedOut) return new UpstreamTimeoutError(host, port, phase, ctx.timeoutMs);
    if (ctx.callerAborted) return new RequestAbortedError(host, port);
    if (err instanceof TransportError) return err;
    // The request-body cap is checked before sending, so axios's maxBodyLength is only a backstop.
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

function toResponse(res: AxiosResponse<Readable>, body: Buffer, method: string): TransportResponse {
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
