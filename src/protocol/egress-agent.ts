// The egress guard: HTTP(S) agents that connect only to public addresses. Store URLs come from an unsigned callback,
// so the check is made on the address ACTUALLY connected to: host names are resolved by the agents' own `lookup`,
// which vets every answer and hands net.connect exactly what it vetted, so a DNS answer that changes between
// validation and connect (rebinding) cannot reach an internal address. IP literals skip lookup in net.connect, so
// they are checked in createConnection (and, earlier, by the transport before the request).
//
// request-filtering-agent does something similar; it is not used because our rule is stricter (EVERY answer must be
// public, not only the one connected to) and our connect-phase errors are typed.
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { isPublicAddress } from './net-policy.js';
import { EgressDeniedError, UpstreamTimeoutError } from './transport-errors.js';

// Close idle pooled sockets before typical server keep-alive timeouts (Apache's is 5 s) so a reused socket is rarely
// one the server is just closing; node also honours a shorter `Keep-Alive: timeout=` hint from the server.
const IDLE_SOCKET_TIMEOUT_MS = 4_000;
// TCP keep-alive probes on a pooled connection after this long without traffic (node's Agent default).
const KEEP_ALIVE_DELAY_MS = 1_000;

/**
 * TCP keep-alive switched on once per connection. node's Agent switches it on again each time a request frees the
 * socket and axios each time a request is given one (with another delay), and each call is four setsockopt system
 * calls: eight of the twelve system calls of a proxied GET (strace, issue 16). Calls that would only enable it
 * again do nothing; switching it off (and on again) still reaches the socket. The delay is always the agent's,
 * which is what an idle pooled connection had; during a request axios's 60 s no longer applies, so a peer that
 * vanished mid-request is noticed sooner.
 */
export function keepAliveOnce(socket: Duplex, delayMs = KEEP_ALIVE_DELAY_MS): void {
  const target = socket as Duplex & { setKeepAlive?(enable?: boolean, initialDelay?: number): unknown };
  const original = target.setKeepAlive;
  if (typeof original !== 'function') return;
  original.call(socket, true, delayMs);
  let enabled = true;
  target.setKeepAlive = function setKeepAlive(enable = false) {
    if (enable !== enabled) {
      enabled = enable;
      original.call(socket, enable, delayMs);
    }
    return socket;
  };
}

export interface EgressAgentOptions {
  /** Development and tests only: allow loopback, private and other non-public addresses. */
  allowPrivate: boolean;
  /** DNS lookup + TCP connect + TLS handshake of a new connection. */
  connectTimeoutMs: number;
  /** Every address a host name resolves to. */
  resolve: (host: string) => Promise<string[]>;
  logger?: { warn(obj: object, msg: string): void } | undefined;
  /**
   * Certificate authorities to trust instead of node's bundled roots (PEM). Tests (a certificate made for the test)
   * and deployments behind a private CA only; verification itself always stays on.
   */
  ca?: string | string[] | undefined;
}

export interface EgressAgents {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  /** Whether the socket finished connecting (TCP, and TLS for https): tells a connect-phase failure from a later one. */
  connected(socket: Duplex): boolean;
  destroy(): void;
}

export function createEgressAgents(options: EgressAgentOptions): EgressAgents {
  const { allowPrivate, connectTimeoutMs, resolve, logger } = options;
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
      // Unreachable through the transport (literals are checked first); kept so no path connects unchecked.
      const err = new EgressDeniedError(host, Number(opts.port) || undefined, host);
      // node's Agent ignores the stream argument when there is an error
      process.nextTick(() => callback?.(err, undefined as unknown as Duplex));
      return undefined;
    }
    const socket = connect();
    if (socket) {
      keepAliveOnce(socket);
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

  // Node splits the two agent classes; the shared part is guardConnection.
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
  const agentOptions = { keepAlive: true, keepAliveMsecs: KEEP_ALIVE_DELAY_MS, timeout: IDLE_SOCKET_TIMEOUT_MS, lookup, scheduling: 'lifo' as const };
  const httpAgent = new GuardedHttpAgent(agentOptions);
  // TLS verification left at node's default (on); `ca` only changes whom it trusts.
  const httpsAgent = new GuardedHttpsAgent(options.ca === undefined ? agentOptions : { ...agentOptions, ca: options.ca });

  return {
    httpAgent,
    httpsAgent,
    connected: (socket) => connected.has(socket),
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
