// Store availability: a circuit breaker per store, per instance, shared by the proxy and the TypeScript client (both
// call through the StoreGateway, whose RestClient this wraps). A store that answers 502/503/504 or cannot be reached
// `failuresBeforeUnavailable` calls in a row (each call after the REST client's own retries) is marked unavailable:
// calls fail fast with StoreUnavailableError (503 `store_unavailable`, Retry-After) for a cool-down, then one trial
// call is let through (half-open); its success makes the store available again, its failure restarts the cool-down.
// This is not a revocation: the binding's state is untouched (its unavailableSince is recorded through the hook).
//
// Keyed by the consumer key: one per binding, and the one thing of the binding a RestClient call carries.
import type { Clock } from '../clock.js';
import type { RestCall, RestClient, RestResponse, StoreCredentials } from '../protocol/rest-client.js';
import { TransportError } from '../protocol/transport-errors.js';
import { StoreUnavailableError } from './errors.js';

export type AvailabilityState = 'available' | 'unavailable' | 'trial';

/** What the API and the account page show of a store's availability. */
export interface AvailabilityView {
  state: AvailabilityState;
  /** Failed calls in a row so far. */
  consecutiveFailures: number;
  /** When the store was marked unavailable (ISO), null when available. */
  unavailableSince: string | null;
  /** When the next trial call is let through (ISO), null when available. */
  retryAt: string | null;
  lastFailure: string | null;
}

/** A breaker's change; src/webhooks/availability.ts records it on the binding with its lifecycle event. */
export interface AvailabilityEvent {
  type: 'store.unavailable' | 'store.available';
  consumerKey: string;
  storeBaseUrl: string;
  at: Date;
  reason: string | null;
}

export interface StoreAvailabilityOptions {
  clock: Clock;
  failuresBeforeUnavailable: number;
  cooldownMs: number;
  /**
   * Called once per transition of this instance's breaker, synchronously; it must not throw or block (the app
   * queues the write: AvailabilityRecorder.breakerChanged, which emits the event once per store, not per instance).
   */
  emitAvailabilityEvent?: (event: AvailabilityEvent) => void;
  /**
   * Circuits kept at most (stores failing now; a success forgets a store's circuit). Beyond it the oldest circuit
   * is forgotten: that store's calls go through again until it fails `failuresBeforeUnavailable` times more.
   * Default 10,000 (issue 16: a deployment of 100,000 stores must not hold one entry per store).
   */
  maxStores?: number;
}

interface Circuit {
  failures: number;
  openedAt: Date | null;
  retryAt: Date | null;
  trialInFlight: boolean;
  lastFailure: string | null;
  storeBaseUrl: string;
}

// Statuses that say the store (or what stands in front of it) is down, not that it refused this call.
const DOWN_STATUS = new Set([502, 503, 504]);
// Transport failures that say the store cannot be reached; an abort by our caller or a refused request do not.
const DOWN_TRANSPORT = new Set(['upstream_unreachable', 'upstream_timeout']);

export class StoreAvailability {
  private readonly circuits = new Map<string, Circuit>();
  constructor(private readonly options: StoreAvailabilityOptions) {}

  /** The RestClient the gateway uses: every call to a store passes the store's circuit. */
  guard(rest: RestClient): RestClient {
    return { send: (store, call) => this.run(store, call, rest) };
  }

  describe(consumerKey: string): AvailabilityView {
    const c = this.circuits.get(consumerKey);
    if (!c || !c.openedAt) {
      return { state: 'available', consecutiveFailures: c?.failures ?? 0, unavailableSince: null, retryAt: null, lastFailure: c?.lastFailure ?? null };
    }
    const now = this.options.clock.now();
    return {
      state: c.trialInFlight || (c.retryAt && c.retryAt <= now) ? 'trial' : 'unavailable',
      consecutiveFailures: c.failures,
      unavailableSince: c.openedAt.toISOString(),
      retryAt: c.retryAt?.toISOString() ?? null,
      lastFailure: c.lastFailure,
    };
  }

  private async run(store: StoreCredentials, call: RestCall, rest: RestClient): Promise<RestResponse> {
    const key = store.consumerKey;
    const circuit = this.circuits.get(key);
    let trial = false;
    if (circuit?.openedAt) {
      const now = this.options.clock.now();
      if (circuit.trialInFlight || (circuit.retryAt && circuit.retryAt > now)) {
        const waitMs = circuit.retryAt ? circuit.retryAt.getTime() - now.getTime() : this.options.cooldownMs;
        throw new StoreUnavailableError(store.storeBaseUrl, Math.max(1, Math.ceil(waitMs / 1000)), circuit.lastFailure);
      }
      circuit.trialInFlight = true; // half-open: this call is the one trial
      trial = true;
    }
    let response: RestResponse;
    try {
      response = await rest.send(store, call);
    } catch (err) {
      if (err instanceof TransportError && DOWN_TRANSPORT.has(err.code)) this.failed(store, err.message);
      else if (trial) this.circuits.get(key)!.trialInFlight = false; // not the store's verdict: the next call tries
      throw err;
    }
    if (DOWN_STATUS.has(response.status)) this.failed(store, `HTTP ${response.status}`);
    else this.succeeded(store);
    return response;
  }

  private failed(store: StoreCredentials, reason: string): void {
    const now = this.options.clock.now();
    let c = this.circuits.get(store.consumerKey);
    if (!c) {
      c = { failures: 0, openedAt: null, retryAt: null, trialInFlight: false, lastFailure: null, storeBaseUrl: store.storeBaseUrl };
      if (this.circuits.size >= (this.options.maxStores ?? 10_000)) this.circuits.delete(this.circuits.keys().next().value!);
      this.circuits.set(store.consumerKey, c);
    }
    c.failures++;
    c.lastFailure = reason;
    c.trialInFlight = false;
    if (c.openedAt) {
      c.retryAt = new Date(now.getTime() + this.options.cooldownMs); // the trial failed: another cool-down
      return;
    }
    if (c.failures >= this.options.failuresBeforeUnavailable) {
      c.openedAt = now;
      c.retryAt = new Date(now.getTime() + this.options.cooldownMs);
      this.emit({ type: 'store.unavailable', consumerKey: store.consumerKey, storeBaseUrl: store.storeBaseUrl, at: now, reason });
    }
  }

  private succeeded(store: StoreCredentials): void {
    const c = this.circuits.get(store.consumerKey);
    if (!c) return;
    this.circuits.delete(store.consumerKey);
    if (c.openedAt) {
      this.emit({ type: 'store.available', consumerKey: store.consumerKey, storeBaseUrl: store.storeBaseUrl, at: this.options.clock.now(), reason: null });
    }
  }

  /** How many stores this instance holds a circuit for (tests: the bound is `maxStores`). */
  get size(): number {
    return this.circuits.size;
  }

  private emit(event: AvailabilityEvent): void {
    try {
      this.options.emitAvailabilityEvent?.(event);
    } catch {
      // a hook's failure never changes the outcome of a call
    }
  }
}
