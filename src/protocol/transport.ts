// The one way the service talks to a store. Store URLs come from an unsigned callback, so the transport refuses to
// connect to any non-public address (net-policy.ts), and it checks the address it ACTUALLY connects to: host names
// are resolved by the agents' own `lookup`, which vets every answer and hands net.connect exactly what it vetted,
// so a DNS answer that changes between validation and connect (rebinding) cannot reach an internal address. IP
// literals skip lookup in net.connect, so they are checked before the request and again in createConnection.
//
// Every HTTP status is a response (a 3xx is returned, never followed); only transport failures reject, always
// with one of the TransportError subclasses below. Bodies and headers are never logged.
import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import axios, { AxiosError, AxiosHeaders, type AxiosResponse } from 'axios';
import { DEFAULT_LIMITS } from '../config.js';
import { isPublicAddress } from './net-policy.js';

// ---------------------------------------------------------------------------------------------------------------
// Errors. Each has a stable `code`; they will move into the shared protocol error hierarchy later.

export abstract class TransportError extends Error {
  abstract readonly code: string;
  override get name(): string {
    return this.constructor.name;
  }
}

/** The target is (or resolves to) a loopback, private, link-local or otherwise non-public address. */
export class EgressDeniedError extends TransportError {
  readonly code = 'egress_denied';
  constructor(
    readonly host: string,
    readonly port: number | undefined,
    /** The refused address; kept out of the message so it is not echoed to whoever supplied the URL. */
    readonly address: string,
  ) {
    super(
      `refused to connect to ${hostPort(host, port)}: it ${isIP(bare(host)) ? 'is' : 'resolves to'} a loopback, ` +
        'private, link-local or otherwise non-public address; the store must be reachable at a public address',
    );
  }
}

export type TimeoutPhase = 'connect' | 'response';

/** No connection within the connect timeout ('connect'), or no complete response within the total timeout. */
export class UpstreamTimeoutError extends TransportError {
  readonly code = 'upstream_timeout';
  constructor(
    readonly host: string,
    readonly port: number,
    /** 'connect': nothing was sent, so retrying cannot repeat an action on the store. */
    readonly phase: TimeoutPhase,
    readonly timeoutMs: number,
  ) {
    super(
      phase === 'connect'
        ? `could not connect to ${hostPort(host, port)} within ${timeoutMs} ms; ` +
            'check that the store is up and reachable'
        : `${hostPort(host, port)} did not send a complete response within ${timeoutMs} ms`,
    );
  }
}

/** DNS failure, refused or reset connection, TLS failure, connection lost mid-response. */
export class UpstreamUnreachableError extends TransportError {
  readonly code = 'upstream_unreachable';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly reason: string,
    /** 'connect': nothing was sent. 'response': the request may have reached the store. */
    readonly phase: TimeoutPhase,
    /** The failure happened on a kept-alive socket (a server closing an idle connection races with reuse). */
    readonly reusedSocket: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      phase === 'connect'
        ? `could not connect to ${hostPort(host, port)}: ${reason}`
        : `request to ${hostPort(host, port)} failed: ${reason}`,
      options,
    );
  }
}

export class ResponseTooLargeError extends TransportError {
  readonly code = 'response_too_large';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly limitBytes: number,
  ) {
    super(`the response from ${hostPort(host, port)} is larger than ${limitBytes} bytes (after decompression)`);
  }
}

export class RequestTooLargeError extends TransportError {
  readonly code = 'request_too_large';
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`the request body is ${sizeBytes} bytes, more than the ${limitBytes} bytes allowed`);
  }
}

/** The caller's AbortSignal fired. */
export class RequestAbortedError extends TransportError {
  readonly code = 'request_aborted';
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`the request to ${hostPort(host, port)} was cancelled`);
  }
}

/** A programming error in the request itself (bad URL, scheme, header value); nothing was sent. */
export class InvalidRequestError extends TransportError {
  readonly code = 'invalid_request';
}

// ---------------------------------------------------------------------------------------------------------------
// API

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
}

export interface TransportRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs?: number;
  signal?: AbortSignal;
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

// Close idle pooled sockets before typical server keep-alive timeouts (Apache's is 5 s) so a reused socket is rarely
// one the server is just closing; node also honours a shorter `Keep-Alive: timeout=` hint from the server.
const IDLE_SOCKET_TIMEOUT_MS = 4_000;
const USER_AGENT = 'magento-connector';

const defaultResolve = async (host: string): Promise<string[]> =>
  (await dnsLookup(host, { all: true })).map((a) => a.address);

export function createTransport(options: TransportOptions): Transport {
  const { allowPrivate, connectTimeoutMs, totalTimeoutMs, maxResponseBytes, logger } = options;
  const debug = logger && (logger.isLevelEnabled?.('debug') ?? true) ? logger : undefined;
  const maxRequestBodyBytes = options.maxRequestBodyBytes ?? DEFAULT_LIMITS.maxRequestBodyBytes;
  const resolve = options.resolve ?? defaultResolve;
  // Sockets that finished connecting (TCP, and TLS for https): tells a connect-phase failure from a later one.
  const connected = new WeakSet<Duplex>();

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    const wanted = lookupOptions.family === 'IPv4' ? 4 : lookupOptions.family === 'IPv6' ? 6 : lookupOptions.family;
    resolve(hostname).then(
      (answers) => {
        // Every answer is checked, not only those of the wanted family: a name that maps to any internal address
        // is refused outright.
        const denied = allowPrivate ? undefined : answers.find((a) => !isPublicAddress(a));
        if (denied !== undefined) {
          logger?.warn({ host: hostname }, 'egress denied: host resolves to a non-public address');
          callback(new EgressDeniedError(hostname, undefined, denied), '');
          return;
        }
        const usable = answers.filter((a) => {
          const family = isIP(a);
          return family !== 0 && (!wanted || family === wanted);
        });
        const first = usable[0];
        if (first === undefined) {
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
        } else if (lookupOptions.all) {
          callback(null, usable.map((address) => ({ address, family: isIP(address) })));
        } else {
          callback(null, first, isIP(first));
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };

  /** Shared by both agents: refuse non-public IP literals, time the connect phase. */
  const guardConnection = (
    opts: http.ClientRequestArgs,
    callback: ((err: Error | null, stream: Duplex) => void) | undefined,
    connect: () => Duplex | null | undefined,
    readyEvent: 'connect' | 'secureConnect',
  ): Duplex | null | undefined => {
    const host = opts.host ?? 'localhost';
    if (!allowPrivate && isIP(host) && !isPublicAddress(host)) {
      // Unreachable through request() (literals are checked first); kept so no path connects unchecked.
      const err = new EgressDeniedError(host, Number(opts.port) || undefined, host);
      // node's Agent ignores the stream argument when there is an error
      process.nextTick(() => callback?.(err, undefined as unknown as Duplex));
      return undefined;
    }
    const socket = connect();
    if (socket) {
      const timer = setTimeout(() => {
        socket.destroy(new UpstreamTimeoutError(host, Number(opts.port), 'connect', connectTimeoutMs));
      }, connectTimeoutMs);
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        connected.add(socket);
      });
      socket.once('close', () => clearTimeout(timer));
    }
    return socket;
  };

  class GuardedHttpAgent extends http.Agent {
    override createConnection(
      opts: http.ClientRequestArgs,
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      return guardConnection(opts, callback, () => super.createConnection(opts, callback), 'connect');
    }
  }
  class GuardedHttpsAgent extends https.Agent {
    override createConnection(
      opts: https.RequestOptions,
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      return guardConnection(opts, callback, () => super.createConnection(opts, callback), 'secureConnect');
    }
  }
  const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS, lookup, scheduling: 'lifo' as const };
  const httpAgent = new GuardedHttpAgent(agentOptions);
  const httpsAgent = new GuardedHttpsAgent(agentOptions); // TLS verification left at node's default (on)

  const client = axios.create({
    adapter: 'http',
    httpAgent,
    httpsAgent,
    proxy: false, // never route through HTTP(S)_PROXY from the environment
    maxRedirects: 0, // a 3xx is returned to the caller; following it would bypass the caller's checks
    validateStatus: () => true,
    responseType: 'arraybuffer',
    decompress: true, // maxContentLength counts decompressed bytes, so a compression bomb hits the cap
    maxContentLength: maxResponseBytes,
    maxBodyLength: maxRequestBodyBytes,
    timeout: 0, // our own wall-clock timer below covers the body too; axios's stops at the headers
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

    const timeoutMs = req.timeoutMs ?? totalTimeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    let callerAborted = false;
    const onCallerAbort = (): void => {
      callerAborted = true;
      controller.abort();
    };
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const started = debug ? performance.now() : 0;
    try {
      const res = await client.request<Buffer>({
        url: target.href,
        method: req.method,
        headers,
        data: req.body,
        signal: controller.signal,
      });
      debug?.debug(
        { method: req.method, host, port, status: res.status, ms: Math.round(performance.now() - started) },
        'upstream response',
      );
      return toResponse(res, req.method);
    } catch (err) {
      const mapped = mapError(err, { host, port, timedOut, callerAborted, timeoutMs });
      debug?.debug({ method: req.method, host, port, code: mapped.code }, 'upstream request failed');
      throw mapped;
    } finally {
      clearTimeout(timer);
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
    const phase: TimeoutPhase = socket && connected.has(socket) ? 'response' : 'connect';
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
    return new UpstreamUnreachableError(host, port, describe(code, cause, host), phase, reused, { cause });
  }

  return {
    request,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

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
    throw new InvalidRequestError(
      `cannot send a request to a "${url.protocol}" URL: only http and https are supported`,
    );
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

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy eyeballs (several addresses) fails with an AggregateError whose parts carry the codes.
  const parts = (err as { errors?: unknown }).errors;
  return Array.isArray(parts) ? parts.map(errorCode).find((c) => c !== undefined) : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error && err.message ? err.message : String(err);
}

const TLS_CODE = /^(CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|ERR_TLS_|ERR_SSL_|EPROTO$|HOSTNAME_MISMATCH)/;

/** A short reason a person can act on. */
function describe(code: string | undefined, cause: unknown, host: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the store running and listening on this port?)';
    case 'ENOTFOUND':
      return "host name not found in DNS; check the store's host name";
    case 'EAI_AGAIN':
      return 'DNS lookup failed temporarily; try again later';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'EPIPE':
      return 'the server closed the connection while the request was being sent';
    case 'EHOSTUNREACH':
      return 'host unreachable (no route to the store)';
    case 'ENETUNREACH':
      return 'network unreachable (no route to the store)';
    case 'ERR_BAD_RESPONSE':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return 'the connection closed before the response was complete';
  }
  if (code && TLS_CODE.test(code)) {
    return (
      `TLS handshake failed (${messageOf(cause)}); the store needs a valid certificate for ${host} ` +
      'issued by a public certificate authority'
    );
  }
  if (code?.startsWith('HPE_')) return 'the server sent an invalid HTTP response';
  return messageOf(cause);
}

function bare(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

function hostPort(host: string, port: number | undefined): string {
  return port === undefined ? host : `${host}:${port}`;
}
