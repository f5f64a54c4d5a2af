// A tiny benchmark harness shared by the bench/ scripts: run a function after a warm-up, in several timed rounds,
// and report the median round's cost per call. Benchmarks print; they never assert (timings vary by machine).

export interface BenchOptions {
  /** Calls timed in total, split evenly over `rounds`. Default 100 000. */
  iterations?: number;
  /** Untimed calls first, so the JIT has optimised the code being measured. Default iterations / 10. */
  warmup?: number;
  /** Timed rounds; the median round is reported, which damps GC pauses and noisy neighbours. Default 7. */
  rounds?: number;
}

export interface BenchResult {
  name: string;
  iterations: number;
  nsPerOp: number;
  opsPerSec: number;
}

/** The last result of the function being timed: exported, so the engine cannot drop a call as unused. */
export let sink: unknown;

/** Times `fn` (see BenchOptions) and returns the median round's ns per call and calls per second. */
export function bench(name: string, fn: () => unknown, options: BenchOptions = {}): BenchResult {
  const iterations = options.iterations ?? 100_000;
  const rounds = Math.max(1, options.rounds ?? 7);
  const warmup = options.warmup ?? Math.ceil(iterations / 10);
  const perRound = Math.max(1, Math.floor(iterations / rounds));

  for (let i = 0; i < warmup; i++) sink = fn();

  const perOp: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) sink = fn();
    perOp.push(Number(process.hrtime.bigint() - start) / perRound);
  }
  perOp.sort((a, b) => a - b);
  const nsPerOp = perOp[Math.floor(perOp.length / 2)]!;
  return { name, iterations: perRound * rounds, nsPerOp, opsPerSec: 1e9 / nsPerOp };
}

/** One aligned line: name, ns/op, ops/s. */
export function formatResult(result: BenchResult, nameWidth = 40): string {
  const ns = result.nsPerOp.toFixed(0).padStart(9);
  const ops = Math.round(result.opsPerSec).toLocaleString('en-US').padStart(12);
  return `${result.name.padEnd(nameWidth)} ${ns} ns/op ${ops} ops/s`;
}

/** Prints results, one line each, plus the ratio of each to the first (the baseline). */
export function report(results: readonly BenchResult[]): void {
  const width = Math.max(...results.map((r) => r.name.length)) + 2;
  const baseline = results[0];
  for (const result of results) {
    const ratio = baseline === undefined || result === baseline ? '' : `  x${(result.nsPerOp / baseline.nsPerOp).toFixed(2)}`;
    console.log(formatResult(result, width) + ratio);
  }
}
