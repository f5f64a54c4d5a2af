// The one exponential backoff: the delay before retry number `retry` (0 for the first retry) doubles from
// `baseDelayMs` up to `maxDelayMs`, jittered between half and all of it so that many clients do not retry in step.

export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Milliseconds to wait before retry number `retry` (0-based). `random` in [0, 1) is injected in tests. */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
