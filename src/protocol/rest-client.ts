// Signed calls to a store's REST API with the resilience a CRM needs: a fresh signature (nonce, timestamp) on every
// attempt, retries with exponential backoff and jitter on network errors, 502/503/504 and 429 for idempotent
// methods only (never POST), and Retry-After honoured up to a cap. Knows nothing of bindings or of HTTP servers.
import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import { millisOf, systemClock } from '../clock.js';
import { backoffDelayMs } from './backoff.js';
import { ProtocolError } from './errors.js';
import { isRetryable } from './failures.js';
import type { QueryInput } from './query.js';
import { createSigner, type MagentoSigner, type Token } from './signer.js';
import type { SigningProfileName } from './signing-profiles.js';
import { RequestAbortedError } from './transport-errors.js';
import type { CallSignal, ResponseBudget, Transport, TransportResponse } from './transport.js';

export interface StoreCredentials {
  storeBaseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  accessToken: Token;
  /** The store's signature verifier, when known; null or left out signs in the common form (signing-profiles.ts). */
  profile?: SigningProfileName | null;
}

export interface RestCall {
  method: string;
  /** The part after `{store_base_url}rest/`, e.g. `V1/products` or `default/V1/orders`; already URL-encoded. */
  path: string;
  /** Query parameters: a nested object (searchCriteria) or decoded [name, value] pairs. */
  query?: QueryInput;
  /** A JSON or XML body, sent byte for byte and never signed. */
  body?: Buffer | string;
  contentType?: string;
  accept?: string;
  /** The caller's hang-up: an AbortSignal, or any object of its shape (transport.ts CallSignal). */
  signal?: CallSignal | undefined;
  /** `graphql` sends to `{store_base_url}graphql` (path ignored), signed the same way; `rest` by default. */
  endpoint?: 'rest' | 'graphql';
  /** Extra headers, never signed: Magento's `Store` header (store view) for GraphQL. */
  headers?: Record<string, string>;
  /** The caller's budget for the response's bytes besides the transport's (the account's: store-api/limits.ts). */
  responseBudget?: ResponseBudget;
}

export interface RestResponse extends TransportResponse {
  /** How many attempts were made (1 = no retry). */
  attempts: number;
}

export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the 429/503 is returned to the caller as is. */
  retryAfterCapMs: number;
}

export interface RestClientOptions {
  transport: Transport;
  retry: RetryPolicy;
  clock?: Clock;
  /** Injected in tests so retries do not really wait. A caller's abort releases a wait at once, whatever `wait` does. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

// Signers are cached per integration; one idle for this long is dropped (a binding changes rarely, signing is cheap).
const SIGNER_TTL_MS = 60 * 60_000;
const SIGNER_CACHE_MAX = 10_000;

const defaultWait = (ms: number, signal?: AbortSignal): Promise<void> =>
  sleep(ms, undefined, signal ? { signal } : {}).catch(() => undefined); // an abort is reported by the caller's race

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const RETRY_STATUS = new Set([429, 502, 503, 504]);

/** Retry-After in seconds or as an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now: Date): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  // An HTTP date names its month (and weekday). Date.parse alone would read "1.5" or "-1" as dates in 2001, in
  // the past: an immediate retry.
  if (!/[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

// Without a dot, a backslash or an escape a path has nothing to refuse or rewrite (most calls, issue 16).
const MAY_NEED_REWRITE = /[.\\%]/;

/**
 * The path after `rest/`, checked so that the call stays inside the store's REST API: a `.` or `..` segment (also
 * spelt `%2e`, as URL parsers read it) would be resolved by the URL parser and reach another path of the store,
 * signed; it is refused. A backslash, which URL parsers turn into `/`, is sent escaped (`%5C`) instead. The rest of
 * the spelling is the signer's (canonical escapes, what Magento versions sign alike).
 */
export function restPath(path: string): string {
  if (!MAY_NEED_REWRITE.test(path)) return path;
  const q = path.indexOf('?');
  const rawPath = (q === -1 ? path : path.slice(0, q)).replace(/\\/g, '%5C');
  for (const segment of rawPath.split('/')) {
    const dots = segment.replace(/%2e/gi, '.');
    if (dots === '.' || dots === '..') {
      throw new ProtocolError(
        'invalid_path',
        `the REST path ${JSON.stringify(path.slice(0, 200))} has a "${segment}" segment, which would lead out of the ` +
          "store's REST API; remove it",
      );
    }
  }
  return q === -1 ? rawPath : rawPath + path.slice(q);
}

export interface RestClient {
  send(store: StoreCredentials, call: RestCall): Promise<RestResponse>;
}

export function createRestClient(options: RestClientOptions): RestClient {
  const { transport, retry } = options;
  const clock = options.clock ?? systemClock;
  const wait = options.wait ?? defaultWait;
  const random = options.random ?? Math.random;

  // One signer per integration, reused: building one costs about as much as a signature.
  const signers = new LRUCache<string, { secret: string; signer: MagentoSigner }>({
    max: SIGNER_CACHE_MAX,
    ttl: SIGNER_TTL_MS,
    updateAgeOnGet: true,
    perf: { now: millisOf(clock) },
  });
  function signerFor(store: StoreCredentials): MagentoSigner {
    const hit = signers.get(store.consumerKey);
    if (hit && hit.secret === store.consumerSecret) return hit.signer;
    const signer = createSigner({ key: store.consumerKey, secret: store.consumerSecret }, { clock });
    signers.set(store.consumerKey, { secret: store.consumerSecret, signer });
    return signer;
  }

  /** Waits before a retry; a caller who hangs up (signal) is released at once with RequestAbortedError. */
  async function pause(ms: number, url: string, signal: CallSignal | undefined): Promise<void> {
    if (!signal) return wait(ms);
    const aborted = (): RequestAbortedError => {
      const { hostname, port, protocol } = new URL(url);
      return new RequestAbortedError(hostname, Number(port) || (protocol === 'https:' ? 443 : 80));
    };
    if (signal.aborted) throw aborted();
    // The wait gets an AbortSignal of its own (the caller's may be a lighter object), fired with the caller's.
    const waitAbort = new AbortController();
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        wait(ms, waitAbort.signal),
        new Promise<never>((_, reject) => {
          onAbort = () => {
            waitAbort.abort();
            reject(aborted());
          };
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) throw aborted();
  }

  return {
    async send(store, call) {
      const method = call.method.toUpperCase();
      const retryable = IDEMPOTENT.has(method);
      const url = call.endpoint === 'graphql' ? `${store.storeBaseUrl}graphql` : `${store.storeBaseUrl}rest/${restPath(call.path)}`;
      const signer = signerFor(store);
      for (let attempt = 1; ; attempt++) {
        // Signed inside the loop: every attempt needs its own nonce (Magento burns a nonce even on failure).
        const signed = signer.sign(
          { method, url, query: call.query, contentType: call.contentType, profile: store.profile },
          store.accessToken,
        );
        const canRetry = retryable && attempt <= retry.maxRetries;
        // The attempt's own headers, built with Object.assign (and the answer below field by field): on node 20's V8
        // a spread that is then added to costs about 2 µs (issue 16, docs/CONVENTIONS.md).
        const headers: Record<string, string> = Object.assign({}, call.headers);
        if (call.contentType) headers['Content-Type'] = call.contentType;
        headers.Accept = call.accept ?? 'application/json';
        headers.Authorization = signed.authorization;
        let response: TransportResponse;
        try {
          response = await transport.request({
            method,
            url: signed.url,
            headers,
            body: call.body,
            signal: call.signal,
            budget: call.responseBudget,
          });
        } catch (err) {
          if (!canRetry || !isRetryable(err)) throw err;
          await pause(backoffDelayMs(attempt - 1, retry, random), url, call.signal);
          continue;
        }
        if (canRetry && RETRY_STATUS.has(response.status)) {
          const after = retryAfterMs(response.headers['retry-after'], clock.now());
          if (after === undefined || after <= retry.retryAfterCapMs) {
            await pause(after ?? backoffDelayMs(attempt - 1, retry, random), url, call.signal);
            continue;
          }
        }
        return { status: response.status, headers: response.headers, body: response.body, attempts: attempt };
      }
    },
  };
}
