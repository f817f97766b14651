/**
 * The duration histogram of one task and outcome, as cumulative buckets (Prometheus style: each bucket counts the
 * runs that took at most `le` seconds; the last bucket is `+Inf`).
 */
export interface TaskDurationStats {
  readonly task: string;
  /** `succeeded` or `failed` (a failed attempt, retried or not). */
  readonly outcome: 'succeeded' | 'failed';
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly count: number;
  readonly sumSeconds: number;
}

/** How many attempts of one task failed with one error code. */
export interface TaskFailureStats {
  readonly task: string;
  readonly code: string;
  /** True when the job failed for good with this attempt; false when it was to be retried. */
  readonly final: boolean;
  readonly count: number;
}

/**
 * What every worker sharing the broker recorded about the jobs it ran, summed across workers since the
 * deployment's statistics were first written. The counts only grow (they are Prometheus counters).
 */
export interface JobStats {
  readonly durations: readonly TaskDurationStats[];
  readonly failures: readonly TaskFailureStats[];
}

/** Where consumers record job statistics, and where metrics read them back. */
export interface JobStatsStore {
  /** Reads the statistics every consumer has recorded so far (each flushes about once a second). */
  readJobStats(): Promise<JobStats>;
}
