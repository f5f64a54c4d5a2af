// The one place the code takes time from, so tests can move it (the mock store's 300 s window, throttling windows,
// request-token lifetimes) without waiting.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * The clock in milliseconds, for caches that read it on every lookup (lru-cache's `perf.now`): the system clock
 * without a Date per read (four cache lookups per proxied call, issue 16); any other clock through its `now()`.
 */
export function millisOf(clock: Clock): () => number {
  return clock === systemClock ? Date.now : () => clock.now().getTime();
}

/** A clock that runs with real time but can be shifted forward (tests, the mock store's knob). */
export class OffsetClock implements Clock {
  private offsetMs = 0;
  constructor(private readonly base: Clock = systemClock) {}
  now(): Date {
    return new Date(this.base.now().getTime() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  set(offsetMs: number): void {
    this.offsetMs = offsetMs;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
