// The server process's heap: roomy while it is small, tight as it nears a budget (issue 16).
// After each full GC V8 sets the point of the next one from the live size: by a factor of its own (up to 4x), or by
// a fixed percentage when --heap-growing-percent is set. scripts/start.mjs sets 20%: what keeps an instance small
// after a burst over many stores (after a sweep over 11,000 stores 228 MB instead of V8's 325; V8 does not give
// those pages back when the load has passed). But at the ~38 MB a busy proxy holds, 20% (at least 8 MB) is filled
// by what each scavenge promotes within a second or two, and every full GC marks the whole heap again.
// So the growth is set after each full GC from what is live then: enough to reach HEAP_BUDGET_BYTES, never under
// 20%. A small heap gets room (fewer full GCs); one that holds a sweep's caches is near the budget already and gets
// the 20% it always had, so the peak that sets the resident memory after a sweep stays where it was. The budget is
// the largest that kept it there: after a sweep over 10,790 stores 188 MB with 64 MB (186-190 with the fixed 20%),
// 203 MB with 80 MB.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/** Where the growth is aimed: the old generation's next limit, live size and growth, in bytes (new space apart). */
export const HEAP_BUDGET_BYTES = 64 * 1024 * 1024;
/** The least growth, in percent: the same as scripts/start.mjs sets at start. */
export const HEAP_GROWTH_FLOOR = 20;

/** The growth (percent) that puts the next full GC at `budget` for `live` bytes live, never under `floor`; pure. */
export function growthPercentFor(live: number, budget = HEAP_BUDGET_BYTES, floor = HEAP_GROWTH_FLOOR): number {
  if (!(live > 0)) return floor;
  return Math.max(floor, Math.floor((budget / live - 1) * 100));
}

/**
 * Follows every full GC (node's `gc` performance entries) and sets the growth for the next one. The observer does
 * not keep the process alive. Returns a function that stops it. A budget of 0 (HEAP_BUDGET_MB=0) hands the growth
 * back to V8 (--heap-growing-percent=0 is V8's "not set"): about 8-14% less CPU per proxied call under load in
 * the thirteenth session's A/Bs, for a resident size after a sweep over 10,790 stores past 200 MB (228-286 MB
 * against 184-186 with the default budget, bench -- scale at 12,000 bindings, thirteenth and fourteenth sessions).
 */
export function startHeapPolicy(budget = HEAP_BUDGET_BYTES): () => void {
  if (budget === 0) {
    v8.setFlagsFromString('--heap-growing-percent=0');
    return () => {};
  }
  let current = -1;
  const apply = () => {
    const percent = growthPercentFor(v8.getHeapStatistics().used_heap_size, budget); // just after a full GC: about what is live
    // A flag is parsed from a string: only when it moves by more than a little.
    if (Math.abs(percent - current) < 5) return;
    current = percent;
    // V8 reads --heap-growing-percent each time it sets the next limit (heap-controller.cc).
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) return apply();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  apply();
  return () => observer.disconnect();
}
