// What the transport rejects with: the store could not be reached, or not safely, or not in time. Every HTTP status
// is a response, never one of these. Each keeps its stable `code`; all are ProtocolErrors (errors.ts).
import { isIP } from 'node:net';
import { ProtocolError } from './errors.js';

export type TransportErrorCode =
  | 'egress_denied'
  | 'upstream_timeout'
  | 'upstream_unreachable'
  | 'response_too_large'
  | 'response_budget_exceeded'
  | 'request_too_large'
  | 'request_aborted'
  | 'invalid_request';

export abstract class TransportError extends ProtocolError<TransportErrorCode> {}

/** The target is (or resolves to) a loopback, private, link-local or otherwise non-public address. */
export class EgressDeniedError extends TransportError {
  constructor(
    readonly host: string,
    readonly port: number | undefined,
    /** The refused address; kept out of the message so it is not echoed to whoever supplied the URL. */
    readonly address: string,
  ) {
    super(
      'egress_denied',
      `refused to connect to ${hostPort(host, port)}: it ${isIP(bare(host)) ? 'is' : 'resolves to'} a loopback, ` +
        'private, link-local or otherwise non-public address; the store must be reachable at a public address',
    );
  }
}

export type TimeoutPhase = 'connect' | 'response';

/** No connection within the connect timeout ('connect'), or no complete response within the total timeout. */
export class UpstreamTimeoutError extends TransportError {
  constructor(
    readonly host: string,
    readonly port: number,
    /** 'connect': nothing was sent, so retrying cannot repeat an action on the store. */
    readonly phase: TimeoutPhase,
    readonly timeoutMs: number,
  ) {
    super(
      'upstream_timeout',
      phase === 'connect'
        ? `could not connect to ${hostPort(host, port)} within ${timeoutMs} ms; ` +
            'check that the store is up and reachable'
        : `${hostPort(host, port)} did not send a complete response within ${timeoutMs} ms`,
    );
  }
}

/** DNS failure, refused or reset connection, TLS failure, connection lost mid-response. */
export class UpstreamUnreachableError extends TransportError {
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
      'upstream_unreachable',
      phase === 'connect'
        ? `could not connect to ${hostPort(host, port)}: ${reason}`
        : `request to ${hostPort(host, port)} failed: ${reason}`,
      options,
    );
  }
}

export class ResponseTooLargeError extends TransportError {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly limitBytes: number,
  ) {
    super(
      'response_too_large',
      `the response from ${hostPort(host, port)} is larger than ${limitBytes} bytes (after decompression)`,
    );
  }
}

/**
 * Receiving this response would take the bytes held by responses in flight past a budget (transport.ts
 * ResponseBudget): the instance's, or the caller's own (an account's). Not the store's fault, and not its size
 * alone: it clears as other responses finish.
 */
export class ResponseBudgetExceededError extends TransportError {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly scope: 'instance' | 'account',
    readonly limitBytes: number,
  ) {
    super(
      'response_budget_exceeded',
      `the response from ${hostPort(host, port)} was not received in full: the responses being received ` +
        `${scope === 'account' ? "for this account's calls" : 'by this instance'} at once would hold more than ` +
        `${limitBytes} bytes`,
    );
  }
}

export class RequestTooLargeError extends TransportError {
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super('request_too_large', `the request body is ${sizeBytes} bytes, more than the ${limitBytes} bytes allowed`);
  }
}

/** The caller's AbortSignal fired. */
export class RequestAbortedError extends TransportError {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super('request_aborted', `the request to ${hostPort(host, port)} was cancelled`);
  }
}

/** A programming error in the request itself (bad URL, scheme, header value); nothing was sent. */
export class InvalidRequestError extends TransportError {
  constructor(message: string) {
    super('invalid_request', message);
  }
}

/** An IPv6 literal as URL.hostname spells it, without its brackets. */
export function bare(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

export function hostPort(host: string, port: number | undefined): string {
  return port === undefined ? host : `${host}:${port}`;
}
