// Revocation probes. Magento tells nobody when a merchant deletes or reauthorizes an integration, so every active
// store gets one cheap signed call (store-api/gateway.ts PROBE_CALL) at least every PROBE_INTERVAL_SECONDS, unless
// a call to it succeeded within the interval. Due times are per binding (Binding.nextProbeAt), spread at random over
// the interval when a store is first seen and kept spread afterwards (each next time is a jittered interval after the
// last probe), so there is never a burst at the top of the hour; at most PROBE_RATE_PER_SECOND probes start per
// second on each instance. Each probe is claimed with a conditional update of its due time (src/storage/probes.ts):
// two instances never probe one store at once, and a dead instance's claim comes due again after claimMs.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ProbeOutcome } from '../store-api/gateway.js';
import type { ProbeReschedule } from '../storage/probes.js';
import type { Storage } from '../storage/types.js';

export interface ProbeConfig {
  /** PROBE_INTERVAL_SECONDS: the longest an active store goes without a probe or a successful call. */
  intervalMs: number;
  /** PROBE_RATE_PER_SECOND: probes started per second per instance, at most; 0 turns probing off. */
  ratePerSecond: number;
  /** How long a claim lasts (longer than a probe call may take). */
  claimMs: number;
  /** How often the scheduler looks for due probes. */
  tickMs: number;
}

// Each next due time comes up to this share of the interval early, so due times stay spread.
const JITTER = 0.1;

export const DEFAULT_PROBE_CONFIG: ProbeConfig = { intervalMs: 3600_000, ratePerSecond: 10, claimMs: 120_000, tickMs: 1_000 };

export interface ProberOptions {
  storage: Pick<Storage, 'probes'>;
  gateway: { probe(id: string): Promise<ProbeOutcome> };
  clock: Clock;
  config: ProbeConfig;
  logger: Logger;
  random?: () => number;
  /** Every probe's outcome (metrics, tests). */
  onOutcome?: (outcome: ProbeOutcome['outcome'] | 'error') => void;
}

export class RevocationProber {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private readonly random: () => number;

  constructor(private readonly o: ProberOptions) {
    this.random = o.random ?? Math.random;
  }

  start(): void {
    if (this.running || this.o.config.ratePerSecond <= 0) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .then(() => undefined)
        .catch((err: unknown) => this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'revocation probes: tick failed'))
        .finally(() => {
          this.ticking = undefined;
          if (this.running) this.schedule(this.o.config.tickMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** The next due time after a probe (or a successful call) at `from`: within the interval, jittered by up to 10%. */
  private nextAfter(from: Date): Date {
    const { intervalMs } = this.o.config;
    return new Date(from.getTime() + intervalMs - Math.floor(this.random() * intervalMs * JITTER));
  }

  /** One round: due times for new active stores, then up to rate x tick probes. Resolves when they are done. */
  async tick(): Promise<number> {
    const { config, storage, clock } = this.o;
    const budget = Math.max(1, Math.floor((config.ratePerSecond * config.tickMs) / 1000));
    const now = clock.now();
    await storage.probes.scheduleNew(now, config.intervalMs, budget * 10, this.random);
    // The tick's due probes, claimed in one conditional update (only rows still due when it writes: another
    // instance's claims are not taken); their next due times are written together once the probes are done, each
    // only while its claim still holds. Two index moves per probe (the claim, the next time), two statements a tick.
    const until = new Date(now.getTime() + config.claimMs);
    const claimed = await storage.probes.claimDue(now, until, budget);
    const next: ProbeReschedule[] = [];
    const probes: Promise<void>[] = [];
    for (const d of claimed) {
      // In use: a successful call says as much as a probe would. Recent enough that the next due time after it is in
      // the future (a probe's own successful call, recorded too, is never that recent when its next probe comes due).
      if (d.lastCallOkAt && d.lastCallOkAt.getTime() > now.getTime() - config.intervalMs * (1 - JITTER)) {
        next.push({ id: d.id, claimedUntil: until, next: this.nextAfter(d.lastCallOkAt) });
        this.o.onOutcome?.('skipped');
        continue;
      }
      probes.push(this.probeOne(d.id, until).then((entry) => void next.push(entry)));
    }
    await Promise.all(probes);
    await storage.probes.rescheduleMany(next);
    return probes.length;
  }

  /** One probe; gives its next due time (the claim's replacement, with the probe's own successful call if any). */
  private async probeOne(id: string, claimedUntil: Date): Promise<ProbeReschedule> {
    let outcome: ProbeOutcome['outcome'] | 'error';
    let callOkAt: Date | undefined;
    try {
      const result = await this.o.gateway.probe(id);
      outcome = result.outcome;
      if (result.outcome === 'ok') callOkAt = result.callOkAt;
    } catch (err) {
      outcome = 'error';
      this.o.logger.warn({ bindingId: id, err: err instanceof Error ? err.message : String(err) }, 'revocation probe failed');
    }
    this.o.onOutcome?.(outcome);
    // A revoked store is no longer due (only active ones are, and the write is conditional on the claim only: the
    // due time of a revoked row is never read).
    return { id, claimedUntil, next: this.nextAfter(this.o.clock.now()), ...(callOkAt ? { callOkAt } : {}) };
  }
}
