import {
  CeleriacError,
  ErrorCode,
  JobState,
  deserializeError,
  type JobRecord,
} from '@celeriac/core';
import type { Broker, CancelOutcome, JobEvent, JobOutcome } from '@celeriac/broker';

/** What `result()` accepts. */
export interface ResultOptions {
  /** Give up waiting after this many milliseconds (`CELERIAC_RESULT_TIMEOUT`). Default 60,000. */
  readonly timeoutMs?: number;
}

/** A reference to one job, typed by its task's output. */
export interface JobHandle<Output = unknown> {
  readonly id: string;
  /**
   * The state the job was in when `enqueue` returned (`queued` or `scheduled`; for a `jobId` or dedupe key that
   * named an existing job, that job's state then), known without asking Redis again. `undefined` on handles from
   * `client.job(id)`. For the state now, call `state()`.
   */
  readonly enqueuedAs: JobState | undefined;
  /** The job's current state. @throws `CELERIAC_JOB_NOT_FOUND` if it does not exist (or has expired). */
  state(): Promise<JobState>;
  /** The full record: state, input, result or error, attempts, timestamps. */
  record(): Promise<JobRecord>;
  /**
   * Waits for the job to finish and returns its output.
   * @throws `CELERIAC_JOB_FAILED` (the job's own error is the `cause` and is in `details.error`),
   *   `CELERIAC_JOB_CANCELLED`, `CELERIAC_JOB_EXPIRED` (it was still waiting at its expiry, so it never ran),
   *   `CELERIAC_JOB_NOT_FOUND`, `CELERIAC_RESULT_TIMEOUT`
   */
  result(options?: ResultOptions): Promise<Output>;
  /**
   * Calls `listener` as the job starts (`active`), reports progress (`progress`, with the value the handler passed
   * to `ctx.progress`) and finishes (`finished`, with its outcome). Returns a function that stops watching; watching
   * also stops by itself once the job finished. Events are live: call `record()` first for what already happened.
   * @throws `CELERIAC_JOB_NOT_FOUND`
   */
  watch(listener: (event: JobEvent) => void): Promise<() => void>;
  /**
   * Cancels the job. One that has not started ends `cancelled` and never runs (`cancelled`). A running one has its
   * `ctx.signal` aborted on its worker and ends `cancelled` (`cancelling`; a handler that ignores the signal is
   * stopped after a grace period). A finished one is left alone (`already-finished`).
   */
  cancel(): Promise<Exclude<CancelOutcome, 'not-found'>>;
}

/** Creates a handle for job `id` on `broker`; `enqueuedAs` is its state as `enqueue` answered it, if it was. */
export function createJobHandle<Output>(broker: Broker, id: string, enqueuedAs?: JobState): JobHandle<Output> {
  const record = async (): Promise<JobRecord> => (await broker.getJob(id)) ?? throwNotFound(id);
  return {
    id,
    enqueuedAs,
    record,
    state: async () => (await record()).state,
    async result({ timeoutMs = 60_000 } = {}) {
      const done = (await broker.waitForJob(id, timeoutMs)) ?? throwNotFound(id);
      return outputOf<Output>(done);
    },
    watch: (listener) => broker.watchJob(id, listener),
    async cancel() {
      const outcome = await broker.cancelJob(id);
      return outcome === 'not-found' ? throwNotFound(id) : outcome;
    },
  };
}

/** A finished job's output, or the error that says why it has none. */
export function outputOf<Output>(record: JobOutcome): Output {
  if (record.state === JobState.Succeeded) return record.result as Output;
  if (record.state === JobState.Failed && record.error) {
    throw new CeleriacError(
      ErrorCode.JobFailed,
      `Job "${record.id}" (${record.task}) failed: ${record.error.message}`,
      { cause: deserializeError(record.error), details: { id: record.id, error: record.error } },
    );
  }
  const details = { id: record.id, state: record.state };
  if (record.state === JobState.Expired) {
    throw new CeleriacError(
      ErrorCode.JobExpired,
      `Job "${record.id}" (${record.task}) expired while it waited for a worker, so it never ran and has no result.`,
      { details },
    );
  }
  throw new CeleriacError(ErrorCode.JobCancelled, `Job "${record.id}" (${record.task}) ended ${record.state}; it has no result.`, {
    details,
  });
}

function throwNotFound(id: string): never {
  throw new CeleriacError(
    ErrorCode.JobNotFound,
    `Job "${id}" was not found. Check the id; finished jobs are removed when their retention expires.`,
    { details: { id } },
  );
}
