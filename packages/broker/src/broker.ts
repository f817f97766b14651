import type { CatalogueEntry, JobEnvelope, JobRecord, JobState, SerializedError, WorkerInfo } from '@celeriac/core';
import type { ChildResults, WorkflowStore } from './workflow-store.js';
import type { ScheduleStore } from './schedule-store.js';
import type { OperatorStore } from './operator-store.js';
import type { ControlBus } from './control-bus.js';
import type { JobEventStream } from './job-event-stream.js';
import type { JobStatsStore } from './job-stats.js';

/** What the client hands the broker to create one job. */
export interface EnqueueRequest {
  /** Queue the job goes to. */
  readonly queue: string;
  /** Task name, stored as the job's name. */
  readonly task: string;
  /**
   * The versioned job data. Typed arrays in its input are kept as typed arrays: an implementation stores them as
   * binary (never as JSON number arrays) and gives them back to consumers and readers as they were.
   */
  readonly envelope: JobEnvelope;
  /** Caller-chosen id; enqueueing the same id twice returns the existing job instead of a second one. */
  readonly jobId?: string;
  /** Milliseconds to wait before the job becomes runnable. */
  readonly delayMs?: number;
  /** 0 (default, first) up to 2,097,152; a lower number runs sooner, as in BullMQ. */
  readonly priority?: number;
  /** Total attempts, the first included. Default 1. The backoff between them is in `envelope.meta.retry`. */
  readonly attempts?: number;
  /**
   * While a job with this id is live (not finished) and `ttlMs` has not passed, enqueueing another with the same
   * id returns the first instead of creating a second.
   */
  readonly dedupe?: { readonly id: string; readonly ttlMs: number };
}

/**
 * How a job ended, without its input: what waiting for a result needs. Inputs can be large, and reading them back
 * only to drop them would make every `result()` pay for the payload.
 */
export interface JobOutcome {
  readonly id: string;
  readonly task: string;
  readonly state: JobState;
  /** The output, when the job succeeded. */
  readonly result?: unknown;
  /** The failure, when the job failed. */
  readonly error?: SerializedError;
}

/** A change in one job's life, as {@link Broker.watchJob} reports it. */
export type JobEvent =
  | { readonly type: 'active'; readonly id: string }
  | { readonly type: 'progress'; readonly id: string; readonly progress: unknown }
  | { readonly type: 'finished'; readonly id: string; readonly outcome: JobOutcome };

/** A job as a consumer receives it. */
export interface ReceivedJob {
  readonly id: string;
  readonly queue: string;
  /** The job's task name. */
  readonly task: string;
  /**
   * The raw job data; the worker decodes and validates it (it came from Redis, so it is untrusted). The typed arrays
   * of its input are already back from their binary blob.
   */
  readonly data: unknown;
  /** Failed attempts before this one. */
  readonly attemptsMade: number;
  /** This attempt's number, 1-based, counting attempts lost with a worker that died as well as failed ones. */
  readonly attempt: number;
  /**
   * Aborts when the job must stop (the consumer's shutdown deadline passed). Implementations create it on first
   * read: most handlers never look, and an AbortController per job is a measurable cost at high throughput.
   */
  readonly signal: AbortSignal;
  /**
   * Calls `listener` when the job must stop (at once if it already must). Unlike reading `signal`, this allocates no
   * AbortController, so the worker can watch every job for cancellation at no cost.
   */
  onAbort(listener: (reason: Error) => void): void;
  /** Appends a line to the job's log. */
  log(line: string): Promise<void>;
  /** Records the job's latest progress value (and emits it as an event). */
  progress(value: number | Readonly<Record<string, unknown>>): Promise<void>;
  /**
   * Puts the job back to wait `delayMs` without spending an attempt (a concurrency or rate limit said "not yet").
   * The processor returns right after; the job runs again later, on whichever worker picks it up.
   */
  defer(delayMs: number): Promise<void>;
  /** The results of the jobs this one waited for (a workflow's chord callback, a group's gathering job). */
  childResults(): Promise<ChildResults>;
}

/**
 * What a job asks of the shared limits before it runs. Keys are opaque strings compared exactly: the caller scopes
 * them (the worker prefixes the task name), and the same key under `concurrency` and `rate` names two limits.
 */
export interface LimitRequest {
  /** The job asking; it names the job's slot, so asking again for the same job is not counted twice. */
  readonly jobId: string;
  /** A slot among at most `limit` for `key`, held as a lease that lapses after `leaseMs` unless renewed. */
  readonly concurrency?: { readonly key: string; readonly limit: number; readonly leaseMs: number };
  /** A start among at most `limit` per `perMs` for `key`, spaced evenly (one every `perMs / limit`). */
  readonly rate?: { readonly key: string; readonly limit: number; readonly perMs: number };
}

/** The limits' answer: go, or wait `retryAfterMs` because of one of them. */
export type LimitDecision =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly retryAfterMs: number; readonly reason: 'concurrency' | 'rate' };

/**
 * Runs one received job. Return the value to store as its result; throw to fail it. A thrown celeriac error whose
 * `retryable` is false fails the job at once.
 */
export type JobProcessor = (job: ReceivedJob) => Promise<unknown>;

/** Options for {@link Broker.consume}. */
export interface ConsumeOptions {
  readonly queues: readonly string[];
  /** Jobs run at once per queue. */
  readonly concurrency: number;
  /**
   * Lower limits for some queues (`{ gpu: 1 }`): a queue listed here never has more jobs fetched at once than its
   * number. The worker uses it so that it does not fetch GPU jobs it has no capacity to run.
   */
  readonly queueConcurrency?: Readonly<Record<string, number>>;
  /**
   * How long a job stays locked to this consumer without a renewal (renewed every half lease while it runs). A
   * consumer that dies loses its jobs to others within one to two leases.
   */
  readonly leaseMs: number;
  /** How many times a job may be lost with its consumer before it fails for good (a poison pill). */
  readonly maxLostAttempts: number;
  /**
   * Global rate limits by queue: at most `limit` job starts per `perMs` on that queue, across every consumer that
   * sets the same limit.
   */
  readonly queueRateLimits?: Readonly<Record<string, { readonly limit: number; readonly perMs: number }>>;
  /**
   * Hears what goes wrong in a queue's fetch loop: Redis unreachable or full, a lease renewal refused. The loop
   * retries on its own; this is for the log. Without it the errors are the broker's to report.
   */
  readonly onError?: (error: Error, queue: string) => void;
}

/** A running consumer. */
export interface Consumer {
  /**
   * Stops fetching, waits up to `deadlineMs` for jobs in flight, then closes. Jobs still running at the deadline are
   * aborted through their signal and handed back to their queue at once; their ids are returned.
   */
  close(deadlineMs: number): Promise<{ readonly handedBack: readonly string[] }>;
  /** Stops fetching jobs (those running go on) until {@link Consumer.resume}; queues are untouched for others. */
  pause(): Promise<void>;
  /** Fetches jobs again after {@link Consumer.pause}. */
  resume(): Promise<void>;
  /** Changes how many jobs run at once per queue (still capped by `queueConcurrency`), from the next fetch on. */
  setConcurrency(concurrency: number): Promise<void>;
  /**
   * When the fetch loop last completed a poll of the broker (epoch ms): a fetch that came back, with a job or
   * without one. It is what a liveness probe watches, so an idle consumer must keep polling on a bounded timer (the
   * Redis one at least every 5 s to 10 s) rather than block forever. With several queues, it is the loop that polled
   * longest ago among those with a poll due. `undefined` before the first poll.
   */
  readonly lastPollAtMs: number | undefined;
  /**
   * Whether a poll is due, i.e. whether a stale {@link Consumer.lastPollAtMs} means a stuck or dead loop. False while
   * paused and while every queue has all its slots busy (a loop with no free slot has nothing to fetch for). A closed
   * consumer polls no more and stays due: if nobody meant to close it, that is a dead worker.
   */
  readonly pollDue: boolean;
}

/**
 * Result of {@link Broker.cancelJob}: `cancelled` (it had not started, and never will), `cancelling` (it was running;
 * its worker was told to stop, and it ends `cancelled`), `already-finished`, or `not-found`.
 */
export type CancelOutcome = 'cancelled' | 'cancelling' | 'already-finished' | 'not-found';

/**
 * The smallest contract the worker, the client and the API need from a message broker. `@celeriac/redis` implements
 * it on BullMQ; `describeBrokerConformance` checks any implementation.
 */
export interface Broker extends WorkflowStore, ScheduleStore, OperatorStore, ControlBus, JobEventStream, JobStatsStore {
  /** The key prefix, hash tag included (`{celeriac}`). */
  readonly prefix: string;
  /** Creates a job. */
  enqueue(request: EnqueueRequest): Promise<JobRecord>;
  /** Reads a job; `undefined` when no such job exists (never a guessed "pending"). */
  getJob(id: string): Promise<JobRecord | undefined>;
  /**
   * Waits until the job reaches a terminal state and returns how it ended; `undefined` if the job does not exist.
   * @throws CeleriacError `CELERIAC_RESULT_TIMEOUT` after `timeoutMs`
   */
  waitForJob(id: string, timeoutMs: number): Promise<JobOutcome | undefined>;
  /**
   * Calls `listener` as the job starts, reports progress and finishes, until the returned function is called (or it
   * finished). Events are live, not replayed: read the job first for what already happened.
   * @throws CeleriacError `CELERIAC_JOB_NOT_FOUND` for an unknown id
   */
  watchJob(id: string, listener: (event: JobEvent) => void): Promise<() => void>;
  /** Cancels a job: one that has not started never runs; a running one is signalled to stop on its worker. */
  cancelJob(id: string): Promise<CancelOutcome>;
  /** Starts consuming queues. */
  consume(processor: JobProcessor, options: ConsumeOptions): Promise<Consumer>;
  /** Takes what a job needs from the shared limits, all or nothing, atomically across workers. */
  acquireLimits(request: LimitRequest): Promise<LimitDecision>;
  /** Extends a held concurrency lease; false if it had lapsed. */
  renewLimit(jobId: string, concurrency: { readonly key: string; readonly leaseMs: number }): Promise<boolean>;
  /** Frees a held concurrency slot. */
  releaseLimit(jobId: string, concurrencyKey: string): Promise<void>;
  /** Publishes task descriptions; a later publish of the same name replaces the entry. */
  publishCatalogue(entries: readonly CatalogueEntry[]): Promise<void>;
  /** Reads the published catalogue, sorted by name. */
  listCatalogue(): Promise<CatalogueEntry[]>;
  /** Records a worker as alive for `ttlMs`. */
  heartbeat(worker: WorkerInfo, ttlMs: number): Promise<void>;
  /** Removes a worker's heartbeat (on clean shutdown). */
  removeWorker(id: string): Promise<void>;
  /** Lists workers whose heartbeat has not expired. */
  listWorkers(): Promise<WorkerInfo[]>;
  /**
   * Resolves when the broker answers within `timeoutMs`.
   * @throws CeleriacError `CELERIAC_BROKER_UNAVAILABLE`
   */
  ping(timeoutMs: number): Promise<void>;
  /**
   * Checks once that the deployment behind the broker fits it and will not lose jobs (for Redis: the connection's
   * cluster mode matches the server's, and the eviction policy is `noeviction`), and says what deserves a warning.
   * Workers and API servers call it at startup so a misfit fails there, with a clear message, not at run time; the
   * broker's own first operation fails the same way.
   * @throws CeleriacError `CELERIAC_BROKER_MISCONFIGURED` for a deployment the broker refuses
   * @throws CeleriacError `CELERIAC_BROKER_UNAVAILABLE` when the check cannot reach it (call again later)
   */
  verifyDeployment(): Promise<{ readonly warnings: readonly string[] }>;
  /** Closes every connection this broker opened. */
  close(): Promise<void>;
}
