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
import axios, { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
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

/**
 * What a call's hang-up signal must offer: an AbortSignal has it, and so does a lighter object of the same shape
 * (the proxy's CallerWatch: no EventTarget per request). Fires at most once; listeners are functions or objects
 * with handleEvent.
 */
export interface CallSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: CallSignalListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: CallSignalListener): void;
}
export type CallSignalListener = (() => void) | { handleEvent(): void };

export interface TransportRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs?: number;
  signal?: CallSignal | undefined;
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
  // Each call goes to axios's own http adapter with a config that inherits this one, merged once: axios's
  // request pipeline (mergeConfig of the defaults and the call, the header buckets flattened into AxiosHeaders,
  // the identity transforms, the response headers converted again) would redo per call what never changes here.
  // What it added per call is added in checkHeaders: its default Accept, and the form Content-Type it gives a
  // POST, PUT or PATCH without one.
  const adapter = axios.getAdapter('http');
  // Without the defaults' header buckets (checkHeaders has what they add); not `delete`d, which would leave the
  // template a dictionary that every call's copy (callConfig) would be too.
  const { headers: _buckets, ...defaults } = client.defaults;
  const template: object = { ...defaults, allowAbsoluteUrls: true };

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
    const headers = checkHeaders(req.headers, req.method);
    if (req.signal?.aborted) throw new RequestAbortedError(host, port);

    // One abort per call, fired by whichever comes first: the total timeout or the caller's hang-up. A plain object
    // axios accepts as its signal (GenericAbortSignal) rather than an AbortController: no EventTarget, no closures.
    const timeoutMs = req.timeoutMs ?? totalTimeoutMs;
    const abort = new CallAbort();
    const injected = options.timeoutSignal?.(timeoutMs);
    const onInjected = injected && new TimeoutListener(abort);
    const timer = injected ? undefined : setTimeout(fireTimeout, timeoutMs, abort).unref();
    if (onInjected) injected!.addEventListener('abort', onInjected, { once: true });
    req.signal?.addEventListener('abort', abort); // removed in finally; a second fire does nothing
    const started = debug ? performance.now() : 0;
    let inBody = false;
    try {
      const res = (await adapter(callConfig(template, target.href, req.method, headers, req.body, abort))) as AxiosResponse<Readable>;
      inBody = true;
      const body = await readBody(res.data, host, port, responseBudget, req.budget);
      debug?.debug(
        { method: req.method, host, port, status: res.status, ms: Math.round(performance.now() - started) },
        'upstream response',
      );
      return toResponse(res, body, req.method);
    } catch (err) {
      const timedOut = abort.firedBy === 'timeout';
      const mapped = mapError(err, { host, port, timedOut, callerAborted: abort.firedBy === 'caller', timeoutMs, inBody });
      debug?.debug({ method: req.method, host, port, code: mapped.code }, 'upstream request failed');
      throw mapped;
    } finally {
      clearTimeout(timer);
      if (onInjected) injected!.removeEventListener('abort', onInjected);
      req.signal?.removeEventListener('abort', abort);
    }
  }

  /**
   * Reads a response body to its end, each chunk counted against the cap and taken from the budgets as it comes;
   * what was taken is given back however it ends. Past the cap or a budget, the response is destroyed (its
   * connection closed: the rest of the body is never read).
   */
  function readBody(stream: Readable, host: string, port: number, a: ResponseBudget | undefined, b: ResponseBudget | undefined): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => new BodyReader(stream, host, port, maxResponseBytes, a, b, resolve, reject));
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

/**
 * One call's config for axios's http adapter: a copy of the shared, merged-once template with the call's own fields.
 * A flat object rather than one inheriting the template: the adapter reads each of its ~40 options through
 * utils.getSafeProp, which walks the prototype chain (allocating as it goes) up to Object.prototype, so an option
 * absent from a flat config is found absent after one step instead of three (issue 16).
 */
function callConfig(template: object, url: string, method: string, headers: Record<string, string>, data: Buffer | string | undefined, signal: CallAbort): InternalAxiosRequestConfig {
  // Object.assign, not a spread: V8 copied this template through its slow path, 16 µs a call (a spread of 16 fields).
  const config = Object.assign({}, template) as InternalAxiosRequestConfig & { signal: CallAbort };
  config.url = url;
  config.method = method;
  // A plain object: the adapter builds its one AxiosHeaders from it.
  config.headers = headers as unknown as AxiosHeaders;
  config.data = data;
  config.signal = signal;
  return config;
}

// What axios's request pipeline added to every call: its default Accept, and the form content type it gave a
// POST, PUT or PATCH sent without one (dispatchRequest).
const DEFAULT_ACCEPT = 'application/json, text/plain, */*';
const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * The request headers as a plain object (axios builds its own AxiosHeaders from it once), our User-Agent unless the
 * caller gave one, axios's defaults (above) unless the caller gave them. axios would silently strip control and
 * non-Latin-1 characters from header values: refuse them.
 */
function checkHeaders(given: Record<string, string> | undefined, method: string): Record<string, string> {
  // Accept first, where axios's defaults put it.
  const headers: Record<string, string> = { Accept: DEFAULT_ACCEPT };
  let userAgent = false;
  let contentType = false;
  if (given) {
    for (const name in given) {
      const value = given[name]!;
      try {
        http.validateHeaderName(name);
        http.validateHeaderValue(name, value);
      } catch {
        // The value is not quoted: it may be a credential.
        const shown = name.replace(/[^\x21-\x7e]/g, '?');
        throw new InvalidRequestError(`the request header "${shown}" has an invalid name or value`);
      }
      const n = name.length;
      if (n === 10 && !userAgent && name.toLowerCase() === 'user-agent') userAgent = true;
      else if (n === 6 && name.toLowerCase() === 'accept') {
        // In the default's place and spelling, as axios merged it.
        headers.Accept = value;
        continue;
      } else if (n === 12 && name.toLowerCase() === 'content-type') contentType = true;
      headers[name] = value;
    }
  }
  if (!userAgent) headers['User-Agent'] = USER_AGENT;
  if (!contentType && /^(?:post|put|patch)$/i.test(method)) headers['Content-Type'] = FORM_TYPE;
  return headers;
}

/**
 * The abort of one call, as axios takes a signal (GenericAbortSignal: `aborted`, one 'abort' listener). It is also the
 * listener (handleEvent) on the caller's AbortSignal, and fired by the total timeout's timer (fireTimeout).
 */
class CallAbort {
  aborted = false;
  firedBy: 'timeout' | 'caller' | undefined;
  private listener: (() => void) | undefined;
  addEventListener(_type: string, listener: () => void): void {
    this.listener = listener;
  }
  removeEventListener(_type: string, listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }
  /** The caller's signal fired. */
  handleEvent(): void {
    this.fire('caller');
  }
  fire(by: 'timeout' | 'caller'): void {
    if (this.aborted) return;
    this.aborted = true;
    this.firedBy = by;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }
}

function fireTimeout(abort: CallAbort): void {
  abort.fire('timeout');
}

/** The listener on a test's injected timeout signal. */
class TimeoutListener {
  constructor(private readonly abort: CallAbort) {}
  handleEvent(): void {
    this.abort.fire('timeout');
  }
}

/**
 * Reads a response body to its end, each chunk counted against the cap and taken from the budgets as it comes;
 * what was taken is given back however it ends. Past the cap or a budget, the response is destroyed (its
 * connection closed: the rest of the body is never read). One object per response, its handlers its methods.
 */
class BodyReader {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;

  constructor(
    private readonly stream: Readable,
    private readonly host: string,
    private readonly port: number,
    private readonly maxBytes: number,
    private readonly a: ResponseBudget | undefined,
    private readonly b: ResponseBudget | undefined,
    private readonly resolve: (body: Buffer) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.once('end', () => this.finish(undefined));
    stream.once('error', (err) => this.finish(err));
    // Closed without an end or an error: the connection went away mid-body. Every response closes after its end:
    // the error (a stack trace captured, about 15 µs) only for one that had not ended.
    stream.once('close', () => this.settled || this.finish(Object.assign(new Error('the connection closed before the response was complete'), { code: 'ECONNRESET' })));
  }

  private onData(chunk: Buffer): void {
    if (this.settled) return;
    const n = chunk.length;
    if (this.size + n > this.maxBytes) return this.fail(new ResponseTooLargeError(this.host, this.port, this.maxBytes));
    const { a, b } = this;
    if (a && !a.take(n)) return this.fail(new ResponseBudgetExceededError(this.host, this.port, a.scope, a.limitBytes));
    if (b && !b.take(n)) {
      a?.release(n);
      return this.fail(new ResponseBudgetExceededError(this.host, this.port, b.scope, b.limitBytes));
    }
    this.size += n;
    this.chunks.push(chunk);
  }

  private finish(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.a?.release(this.size);
    this.b?.release(this.size);
    if (err !== undefined) return this.reject(err);
    const { chunks } = this;
    this.resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.size));
  }

  private fail(err: TransportError): void {
    this.finish(err);
    this.stream.destroy();
  }
}

function toResponse(res: AxiosResponse<Readable>, body: Buffer, method: string): TransportResponse {
  // node's own object: lower-case names, set-cookie an array, Content-Encoding already deleted by axios when it
  // decompressed. Read as it is rather than copied back out of the AxiosHeaders axios built from it.
  const incoming = (res.request as { res?: http.IncomingMessage } | undefined)?.res;
  let headers: Record<string, string | string[]>;
  if (incoming?.headers) headers = incoming.headers as Record<string, string | string[]>;
  else {
    headers = {};
    const raw = res.headers instanceof AxiosHeaders ? res.headers.toJSON() : res.headers;
    for (const [name, value] of Object.entries(raw)) {
      if (value === undefined || value === null || value === false) continue;
      headers[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value);
    }
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
