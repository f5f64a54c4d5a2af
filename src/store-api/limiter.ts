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
    let gate = this.gates.get(key);
    if (!gate) {
      gate = { active: 0, waiting: [] };
      this.gates.set(key, gate);
    }
    if (gate.active >= this.concurrency) {
      if (gate.waiting.length >= this.queueLimit) throw new StoreBusyError(this.concurrency + this.queueLimit);
      await new Promise<void>((resolve) => gate!.waiting.push(resolve));
    } else {
      gate.active++;
    }
    try {
      return await task();
    } finally {
      const next = gate.waiting.shift();
      if (next) next(); // hand the slot over directly
      else if (--gate.active === 0) this.gates.delete(key);
    }
  }

  inFlight(key: string): number {
    return this.gates.get(key)?.active ?? 0;
  }

  queued(key: string): number {
    return this.gates.get(key)?.waiting.length ?? 0;
  }
}
