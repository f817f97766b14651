import { performance } from 'node:perf_hooks';

/** The median of `values` (the mean of the middle two for an even count); `NaN` for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  // For an odd count both indexes name the middle value; for an even count, the middle two.
  const lower = sorted[Math.ceil(sorted.length / 2) - 1] ?? Number.NaN;
  const upper = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  return (lower + upper) / 2;
}

/**
 * The nearest-rank `p`th percentile of `values` (`p` in 0–100): the smallest value that at least `p`% of them do
 * not exceed, so it is always one of the measured values; `NaN` for none.
 */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** How fast some work went: operations per wall-clock second, and this process's CPU time per operation. */
export interface Throughput {
  readonly perSecond: number;
  /**
   * User + system CPU time of this Node process per operation, in µs. On a shared machine it varies far less than
   * wall-clock throughput, because time spent waiting for a busy neighbour does not count.
   */
  readonly cpuMicrosPerOp: number;
}

/**
 * Measures `work`, which performs `count` operations. The clock is `performance.now()`, which is monotonic (a clock
 * adjustment mid-run cannot distort it); CPU time comes from `process.cpuUsage()`.
 */
export async function timeThroughput(count: number, work: () => Promise<unknown>): Promise<Throughput> {
  const startedAt = performance.now();
  const cpuBefore = process.cpuUsage();
  await work();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    perSecond: count / ((performance.now() - startedAt) / 1_000),
    cpuMicrosPerOp: (cpu.user + cpu.system) / count,
  };
}

/**
 * Calls `task(0)` … `task(count - 1)` with at most `limit` calls in flight. This is how a busy producer issues
 * individual requests: neither one at a time (that measures latency, not throughput) nor all at once (that measures
 * how well the client queues thousands of promises).
 */
export async function runBounded(
  count: number,
  limit: number,
  task: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

/** What {@link createCountdown} returns. */
export interface Countdown {
  /** Counts one event; a plain function, so it can be passed as a listener as is. */
  readonly tick: () => void;
  /** Resolves at the target count; rejects when the timeout passes first. */
  readonly done: Promise<void>;
}

/**
 * Resolves after `target` calls of the returned `tick`. A benchmark that waits for jobs must fail loudly when one
 * never finishes instead of hanging, so it rejects after `timeoutMs`, saying how far it got.
 */
export function createCountdown(target: number, timeoutMs: number, what: string): Countdown {
  let count = 0;
  let finish = (): void => {};
  const done = new Promise<void>((resolve, reject) => {
    const fail = (): void => reject(new Error(`${what}: only ${count} of ${target} after ${timeoutMs} ms`));
    const timer = setTimeout(fail, timeoutMs);
    finish = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const tick = (): void => {
    if (++count === target) finish();
  };
  return { tick, done };
}
