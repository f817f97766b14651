import type { Redis } from 'ioredis';

/**
 * Upper bounds of the duration buckets, in seconds: from 5 ms (a trivial handler) to an hour (a long GPU batch).
 * Each bucket's field carries its bound, so a later change of the list keeps old counts readable.
 */
export const durationBucketsSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600];

/** How often recorded statistics go to Redis: the most a crashed worker can lose, and the metrics' lag. */
const flushIntervalMs = 1_000;

/** Separates the parts of a stats field; task names, outcomes and error codes never contain it. */
export const statsFieldSeparator = '|';

/** Fields of the stats hash: `d|task|outcome|le` (bucket, not cumulative), `c|task|outcome`, `s|task|outcome`, `f|task|code|final`. */
const StatsField = {
  bucket: (task: string, outcome: string, le: string) => ['d', task, outcome, le].join(statsFieldSeparator),
  count: (task: string, outcome: string) => ['c', task, outcome].join(statsFieldSeparator),
  sum: (task: string, outcome: string) => ['s', task, outcome].join(statsFieldSeparator),
  failure: (task: string, code: string, final: boolean) => ['f', task, code, final ? '1' : '0'].join(statsFieldSeparator),
} as const;

/**
 * Counts what a worker's jobs did (how long each attempt took, and with which code it failed) and adds the counts
 * to one Redis hash shared by every worker of the deployment, about once a second. Every API process then reads the
 * same cluster-wide totals at scrape time, complete whichever API saw which job, and they never go back (a worker
 * that stops takes nothing with it). Batching keeps the cost off the job path: one pipelined write a second per
 * worker, not one per job. A flush that fails keeps its counts for the next one.
 */
export class JobStatsRecorder {
  private deltas = new Map<string, number>();
  private sums = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly connection: Redis,
    private readonly key: string,
  ) {
    this.timer = setInterval(() => void this.flush(), flushIntervalMs).unref();
  }

  /** Records one attempt that ran for `durationMs` and ended `outcome`. */
  recordRun(task: string, outcome: 'succeeded' | 'failed', durationMs: number): void {
    const seconds = durationMs / 1000;
    const bucket = durationBucketsSeconds.find((le) => seconds <= le);
    this.add(this.deltas, StatsField.bucket(task, outcome, bucket === undefined ? '+Inf' : String(bucket)), 1);
    this.add(this.deltas, StatsField.count(task, outcome), 1);
    this.add(this.sums, StatsField.sum(task, outcome), seconds);
  }

  /** Records one failed attempt; `final` when the job will not be retried. */
  recordFailure(task: string, code: string, final: boolean): void {
    this.add(this.deltas, StatsField.failure(task, code, final), 1);
  }

  /** Writes what was recorded since the last flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  private add(map: Map<string, number>, field: string, value: number): void {
    map.set(field, (map.get(field) ?? 0) + value);
  }

  private async write(): Promise<void> {
    if (this.deltas.size === 0 && this.sums.size === 0) return;
    const [deltas, sums] = [this.deltas, this.sums];
    this.deltas = new Map();
    this.sums = new Map();
    const pipeline = this.connection.multi();
    for (const [field, value] of deltas) pipeline.hincrby(this.key, field, value);
    for (const [field, value] of sums) pipeline.hincrbyfloat(this.key, field, value);
    try {
      await pipeline.exec();
    } catch {
      // Redis away: keep the counts for the next flush. MULTI applies all or nothing, so none is counted twice.
      for (const [field, value] of deltas) this.add(this.deltas, field, value);
      for (const [field, value] of sums) this.add(this.sums, field, value);
    }
  }
}
