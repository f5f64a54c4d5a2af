// The background side of the request-token step: an in-process queue that waits for a burst of callbacks to pause
// (they are answered first: Magento waits 5 s for each, while the request token has its 300 s window), runs a bounded
// number of fetches at once, and the periodic scan that resumes what is due (retries, claims of dead instances).
import type { Logger } from '../log.js';
import { SealedValueError, SecretsKeyError } from '../secrets/sealer.js';
import type { DueBinding } from '../storage/types.js';

// How long the queue waits for a burst of callbacks to pause, and at most, before fetching.
const QUIET_MS = 100;
const MAX_DEFER_MS = 1_000;

export interface RequestTokenQueueOptions {
  concurrency: number;
  /**
   * Fetches at once to one store host: thousands of junk bindings pointed at a tarpit hold this many slots, not all
   * of them, so a real merchant's fetch starts at once (issue 13).
   */
  perHost?: number;
  logger: Logger;
  run(bindingId: string): Promise<unknown>;
  /** Bindings with work due now (storage.bindings.due). */
  due(limit: number): Promise<DueBinding[]>;
  /**
   * A binding whose sealed secrets cannot be opened (the step threw a sealer error): mark it so it is not due again
   * (issue 13: one such row must not stop the retries of every other binding).
   */
  unreadable?(bindingId: string, err: Error): Promise<unknown>;
}

export class RequestTokenQueue {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly queue: { bindingId: string; host: string }[] = [];
  /** Queued or running, so the periodic scan does not queue a binding twice. */
  private readonly pending = new Set<string>();
  private readonly perHostRunning = new Map<string, number>();
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private burstStarted: number | undefined;

  constructor(private readonly options: RequestTokenQueueOptions) {}

  /** Queues a fetch, started once the current burst of callbacks pauses (or after a second at the latest). */
  add(bindingId: string, host = ''): void {
    if (this.pending.has(bindingId)) return;
    this.pending.add(bindingId);
    this.queue.push({ bindingId, host });
    // Wall time, not the Clock: this is about the event loop's load, not about Magento's window.
    const now = Date.now();
    this.burstStarted ??= now;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.min(QUIET_MS, Math.max(0, this.burstStarted + MAX_DEFER_MS - now));
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref?.();
  }

  /** Resumes request-token work that is due. Run periodically. */
  async resumeDue(limit = 50): Promise<number> {
    const due = await this.track(this.options.due(limit));
    // Through the queue, so the per-host bound holds for retries too; drain() waits for them. Each binding's
    // failure is its own (runOne never rejects): the others' retries go on.
    for (const b of due) this.add(b.id, URL.canParse(b.storeBaseUrl) ? new URL(b.storeBaseUrl).host : b.storeBaseUrl);
    if (due.length) this.flush();
    return due.length;
  }

  /** Starts what is queued now and waits for all background work (tests, shutdown). */
  async drain(): Promise<void> {
    if (this.timer) this.flush();
    while (this.inFlight.size || this.queue.length) await Promise.allSettled([...this.inFlight]);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.burstStarted = undefined;
    this.pump();
  }

  private pump(): void {
    const perHost = this.options.perHost ?? Infinity;
    while (this.running < this.options.concurrency && this.queue.length) {
      // The first queued fetch whose host has room (a saturated host's fetches wait their turn, others go ahead).
      const index = this.queue.findIndex((item) => (this.perHostRunning.get(item.host) ?? 0) < perHost);
      if (index < 0) return;
      const { bindingId, host } = this.queue.splice(index, 1)[0]!;
      this.running++;
      this.perHostRunning.set(host, (this.perHostRunning.get(host) ?? 0) + 1);
      const run = this.runOne(bindingId).finally(() => {
        this.running--;
        const left = (this.perHostRunning.get(host) ?? 1) - 1;
        if (left > 0) this.perHostRunning.set(host, left);
        else this.perHostRunning.delete(host);
        this.pending.delete(bindingId);
        this.inFlight.delete(run);
        this.pump();
      });
      this.inFlight.add(run);
    }
  }

  /** One binding's step; a failure is logged (and a binding that cannot be opened marked), never rethrown. */
  private async runOne(bindingId: string): Promise<void> {
    try {
      await this.options.run(bindingId);
    } catch (err) {
      if (!(err instanceof SealedValueError || err instanceof SecretsKeyError) || !this.options.unreadable) {
        this.options.logger.error({ err, bindingId }, 'request-token step crashed');
        return;
      }
      this.options.logger.warn({ bindingId, err: err.message }, 'request-token step skipped: the binding\'s secrets cannot be opened (marked failed)');
      await this.options.unreadable(bindingId, err).catch((markErr: unknown) => this.options.logger.error({ err: markErr, bindingId }, 'could not mark an unreadable binding'));
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
    return work;
  }
}
