import type { JobRecord, JobState, JobSummary } from '@celeriac/core';
import type { EnqueueRequest } from './broker.js';

/** Which jobs {@link OperatorStore.listJobs} returns, and which page of them. */
export interface JobListQuery {
  /** Only jobs in one of these states. Default: every state. */
  readonly states?: readonly JobState[];
  /** Only jobs on one of these queues. Default: every known queue. */
  readonly queues?: readonly string[];
  /** Only jobs of one of these tasks. */
  readonly tasks?: readonly string[];
  /**
   * Only these jobs. A broker reads just them, however many jobs its queues hold, so this is how to read the states
   * of a known set of jobs (a workflow's) without their inputs and results.
   */
  readonly ids?: readonly string[];
  /** Only jobs created at or after this time (ms since the epoch). */
  readonly createdAfterMs?: number;
  /** Only jobs created before this time (ms since the epoch). */
  readonly createdBeforeMs?: number;
  /** Jobs per page, at least 1. */
  readonly limit: number;
  /** Where the previous page ended: its `nextCursor`. Absent for the first page. */
  readonly cursor?: string;
}

/**
 * One page of jobs, newest first (by creation time, then id). The order never changes for a job, so paging with
 * `nextCursor` neither repeats nor skips a job that exists throughout, even as jobs change state meanwhile.
 */
export interface JobPage {
  readonly jobs: JobSummary[];
  /** Opaque; pass it as `cursor` for the next page. Absent on the last page. */
  readonly nextCursor?: string;
}

/**
 * Result of {@link OperatorStore.retryJob}: `retried` (it waits for a worker again), `not-retryable` (it is not
 * failed or cancelled) or `not-found`.
 */
export type RetryOutcome =
  | { readonly outcome: 'retried'; readonly previousState: JobState }
  | { readonly outcome: 'not-retryable'; readonly state: JobState }
  | { readonly outcome: 'not-found' };

/** Counts of one queue's jobs, by where they are. */
export interface QueueSummary {
  readonly name: string;
  /** True while the queue is paused: no worker takes its jobs (they keep waiting). */
  readonly paused: boolean;
  readonly counts: {
    /** Waiting for a worker (paused queues included), prioritized ones and fan-ins waiting for children included. */
    readonly queued: number;
    /** Waiting for a delay, an ETA or a retry's backoff. */
    readonly delayed: number;
    readonly active: number;
    readonly succeeded: number;
    /** Failed, with those cancelled while running and those that expired (all kept for the failed retention). */
    readonly failed: number;
  };
}

/**
 * What operators need beyond the job life cycle: bulk submission, listings, retries and queue administration. Part
 * of the {@link Broker}.
 */
export interface OperatorStore {
  /**
   * Creates many jobs at once, all or none: they are written in one transaction, so a failure leaves none of them.
   * The answer has one record per request, in order.
   */
  enqueueBulk(requests: readonly EnqueueRequest[]): Promise<JobRecord[]>;
  /** Lists jobs, filtered and paged; see {@link JobListQuery}. */
  listJobs(query: JobListQuery): Promise<JobPage>;
  /**
   * Runs a failed or cancelled job again, under the same id. Its attempt history is kept and its next attempt is
   * numbered after the earlier ones: the retry is one more attempt (the job's retry policy was spent already).
   */
  retryJob(id: string): Promise<RetryOutcome>;
  /** Every known queue (enqueued to, or consumed by a live worker), sorted by name, with its counts. */
  listQueues(): Promise<QueueSummary[]>;
  /**
   * Pauses (`true`) or resumes a queue for every worker: while paused no worker takes its jobs. Jobs already
   * running go on.
   * @throws CeleriacError `CELERIAC_QUEUE_NOT_FOUND`
   */
  setQueuePaused(name: string, paused: boolean): Promise<QueueSummary>;
  /**
   * Removes every waiting job of a queue, and its delayed ones unless `delayed` is false. Running, succeeded and
   * failed jobs stay. Returns how many jobs were removed.
   * @throws CeleriacError `CELERIAC_QUEUE_NOT_FOUND`
   */
  drainQueue(name: string, options: { readonly delayed: boolean }): Promise<{ readonly removed: number }>;
}
