// The total timeout of a delivery attempt, counted in time this process could actually run.
//
// On SQLite, better-sqlite3 waits for another process's write lock synchronously (up to its busy timeout), and the
// whole event loop waits with it. A plain timer (AbortSignal.timeout) then fires late, and when the loop resumes,
// expired timers run before the I/O that arrived meanwhile: a receiver that answered in time is timed out, and the
// delivery is sent again (12 duplicates in 10,000 in `npm run bench -- webhooks`). So the deadline here advances on a
// short interval timer that credits at most two of its periods per run: a stall costs the receiver nothing. And an
// expired deadline aborts from setImmediate, which runs after the event loop's I/O phase, so an answer that is
// already there wins. A hard cap (the transport's own timeout) still ends an attempt under an endless stall.

export interface Deadline {
  readonly signal: AbortSignal;
  /** The deadline ran out (rather than the request ending first). */
  readonly expired: boolean;
  /** The request ended: forget the deadline. */
  clear(): void;
}

const TIMEOUT = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

export class ResponsiveDeadlines {
  private credited = 0;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<{ at: number; fire: () => void }>();

  constructor(private readonly periodMs = 100) {}

  /** A deadline `ms` of responsive time from now. */
  start(ms: number): Deadline {
    const controller = new AbortController();
    let expired = false;
    if (!this.timer) this.run();
    const entry = {
      at: this.credited + ms,
      fire: () => {
        expired = true;
        // After the I/O phase: an answer that arrived during a stall is handled first.
        setImmediate(() => controller.abort(TIMEOUT()));
      },
    };
    this.pending.add(entry);
    return {
      signal: controller.signal,
      get expired() {
        return expired;
      },
      clear: () => {
        this.pending.delete(entry);
        if (this.pending.size === 0) this.halt();
      },
    };
  }

  private run(): void {
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.credited += Math.min(now - this.last, this.periodMs * 2);
      this.last = now;
      for (const entry of this.pending) {
        if (entry.at > this.credited) continue;
        this.pending.delete(entry);
        entry.fire();
      }
      if (this.pending.size === 0) this.halt();
    }, this.periodMs);
    this.timer.unref();
  }

  private halt(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
