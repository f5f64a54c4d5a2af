// One doctor per instance: at most one run per store at a time (a second request joins the run in flight, refresh or
// not), and each store's last report cached for DOCTOR_CACHE_TTL_MS. The guard is per instance; two instances may
// each run once for the same store, which costs a few GETs and changes nothing in Magento.
import { LRUCache } from 'lru-cache';
import { millisOf, systemClock, type Clock } from '../clock.js';
import { runDoctor } from './doctor.js';
import type { DoctorInput, DoctorOptions, DoctorResult } from './types.js';

/** How long a report is served without running the checks again: 5 minutes (`?refresh=true` runs them now). */
export const DOCTOR_CACHE_TTL_MS = 5 * 60_000;

export interface StoreDoctorOptions extends DoctorOptions {
  ttlMs?: number;
  /** Stores whose last report is kept; least recently used dropped first. */
  maxStores?: number;
  /** The run itself; runDoctor by default (tests count runs through it; the app puts the store's cap on it). */
  run?: (options: DoctorOptions, input: DoctorInput, storeId: string) => Promise<DoctorResult>;
}

export interface DoctorAnswer extends DoctorResult {
  /** True when the report came from the cache (no request was made). */
  cached: boolean;
}

// The cache is keyed by store id, and a report only serves the same credentials: after a Reauthorize (a new access
// token) the old report is stale.
const fingerprint = (input: DoctorInput): string => `${input.storeBaseUrl} ${input.consumerKey} ${input.accessToken.key}`;

export class StoreDoctor {
  private readonly running = new Map<string, { fingerprint: string; run: Promise<DoctorResult> }>();
  private readonly reports: LRUCache<string, { fingerprint: string; result: DoctorResult }>;
  private readonly clock: Clock;
  private readonly run: (options: DoctorOptions, input: DoctorInput, storeId: string) => Promise<DoctorResult>;

  constructor(private readonly options: StoreDoctorOptions) {
    this.clock = options.clock ?? systemClock;
    this.run = options.run ?? runDoctor;
    this.reports = new LRUCache({
      max: options.maxStores ?? 10_000,
      ttl: options.ttlMs ?? DOCTOR_CACHE_TTL_MS,
      ttlResolution: 0, // ask the clock every time (it is the injected one in tests)
      perf: { now: millisOf(this.clock) },
    });
  }

  /** The cached report when fresh (and `refresh` is not set), else a run: this store's run in flight, or a new one. */
  async check(storeId: string, input: DoctorInput, { refresh = false }: { refresh?: boolean } = {}): Promise<DoctorAnswer> {
    const print = fingerprint(input);
    const hit = this.reports.get(storeId);
    if (!refresh && hit && hit.fingerprint === print) return { ...hit.result, cached: true };
    const inFlight = this.running.get(storeId);
    if (inFlight && inFlight.fingerprint === print) return { ...(await inFlight.run), cached: false };

    const run = this.run(this.options, input, storeId);
    this.running.set(storeId, { fingerprint: print, run });
    try {
      const result = await run;
      this.reports.set(storeId, { fingerprint: print, result });
      return { ...result, cached: false };
    } finally {
      if (this.running.get(storeId)?.run === run) this.running.delete(storeId);
    }
  }

  /** The last report, if still fresh; never runs anything (for pages that only show what is known). */
  cached(storeId: string): DoctorResult | undefined {
    return this.reports.get(storeId)?.result;
  }

  /** Forgets a store's report (binding deleted, credentials changed). */
  forget(storeId: string): void {
    this.reports.delete(storeId);
  }
}
