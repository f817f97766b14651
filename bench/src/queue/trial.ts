import type { Throughput } from '../lib/measure.js';

/** What one measurement of one side (raw BullMQ or celeriac) gets. */
export interface TrialOptions {
  /** Redis to connect to. */
  readonly url: string;
  /**
   * Key prefix of this measurement alone (`bench-…`). Both sides wrap it in a Redis Cluster hash tag (`{bench-…}`),
   * as celeriac always does, so their keys look alike.
   */
  readonly prefix: string;
  /** Jobs to enqueue, then process. */
  readonly jobs: number;
  /** Worker concurrency for the processing phase. */
  readonly concurrency: number;
  /** Adds in flight at once during the enqueue phase. */
  readonly enqueueInFlight: number;
  /** Give up (and fail the run) when a phase takes longer than this. */
  readonly timeoutMs: number;
  /** Where celeriac's handler runs: on the worker's event loop, or in sandbox threads (the default for tasks). */
  readonly isolation: 'inline' | 'sandbox';
}

/** Throughputs of one measurement. */
export interface TrialResult {
  readonly enqueue: Throughput;
  readonly process: Throughput;
}

/**
 * One measurement: enqueue `jobs` no-op jobs (timed), then start a worker on the full queue and time it until every
 * job has completed. Connections are opened before each timed section and closed after it, so only the work counts.
 */
export type Trial = (options: TrialOptions) => Promise<TrialResult>;

/** The queue and job name both sides use. */
export const queueName = 'noop';

/**
 * Retention of succeeded and failed jobs on both sides, equal to celeriac's defaults (24 h / 1,000 succeeded jobs,
 * 7 d failed). Trimming the completed set costs Redis work on every completion, so the baseline must pay it too.
 */
export const retention = {
  removeOnComplete: { age: 86_400, count: 1_000 },
  removeOnFail: { age: 7 * 86_400 },
} as const;

/** The hash-tagged key prefix celeriac derives from a prefix name; the baseline and the cleanup use the same. */
export function keyPrefixOf(prefix: string): string {
  return `{${prefix}}`;
}
