// A per-store cap on requests in flight, with a bounded queue, so one busy merchant cannot take every socket and
// every event-loop turn from the others. Per instance: N instances allow N x the cap in total (README).
import { StoreBusyError } from './errors.js';

interface Gate {
  active: number;
  waiting: Array<() => void>;
}

export class PerKeyLimiter {
  private readonly gates = new Map<string, Gate>();
  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
  ) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const waiting = this.acquire(key);
    if (waiting) await waiting;
    try {
      return await task();
    } finally {
      this.release(key);
    }
  }

  /**
   * Takes one of the key's slots: undefined when one was free (taken now), else a promise that settles once a
   * finishing call hands its slot over. StoreBusyError when the queue is full. Every acquire is paired with one
   * release. (The proxy's path uses these two rather than run(): no closure and no async frame per call.)
   */
  acquire(key: string): Promise<void> | undefined {
    let gate = this.gates.get(key);
    if (!gate) {
      gate = { active: 0, waiting: [] };
      this.gates.set(key, gate);
    }
    if (gate.active < this.concurrency) {
      gate.active++;
      return undefined;
    }
    if (gate.waiting.length >= this.queueLimit) throw new StoreBusyError(this.concurrency + this.queueLimit);
    const waiting = gate.waiting;
    return new Promise<void>((resolve) => waiting.push(resolve));
  }

  /** Gives a slot back: to the first call waiting for one, directly, or to the key's free slots. */
  release(key: string): void {
    const gate = this.gates.get(key);
    if (!gate) return;
    const next = gate.waiting.shift();
    if (next) next();
    else if (--gate.active === 0) this.gates.delete(key);
  }

  inFlight(key: string): number {
    return this.gates.get(key)?.active ?? 0;
  }

  queued(key: string): number {
    return this.gates.get(key)?.waiting.length ?? 0;
  }
}
