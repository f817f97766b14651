import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  CeleriacError,
  ErrorCode,
  computeBackoffMs,
  isBinaryPayload,
  jobEnvelopeSchema,
  serializeError,
  type SerializedError,
} from '@celeriac/core';
import type { ChildResults, JobProcessor, ReceivedJob } from '@celeriac/broker';
import type { BinaryStore } from './binary-store.js';
import type { JobStatsRecorder } from './stats/job-stats-recorder.js';

/** A BullMQ job as the processor sees it, with its abort signal made on first read. */
export class ConsumedJob implements ReceivedJob {
  readonly id: string;
  readonly queue: string;
  readonly task: string;
  /** The job's data; its input's typed arrays are put back by {@link decodeInput} before the processor runs. */
  data: unknown;
  readonly attemptsMade: number;
  readonly attempt: number;
  /** Attempts the job may make in all, the first included. */
  readonly maxAttempts: number;
  private controller: AbortController | undefined;
  private abortReason: Error | undefined;
  private abortListeners: ((reason: Error) => void)[] | undefined;
  /** Set when the job was cancelled while running: whatever the handler returns, the job ends `cancelled`. */
  cancellation: CeleriacError | undefined;

  constructor(
    private readonly job: Job,
    /** BullMQ's lock token for this attempt, needed to hand the job back. */
    readonly token: string | undefined,
    private readonly binary: BinaryStore,
    /** Also records each log line where live views follow the job (its queue's event stream). */
    private readonly appendLog: (queue: string, id: string, line: string) => Promise<void>,
  ) {
    this.id = String(job.id);
    this.queue = job.queueName;
    this.task = job.name;
    this.data = job.data;
    this.attemptsMade = job.attemptsMade;
    // attemptsStarted counts lost attempts too (a worker that died mid-job); attemptsMade counts only failures.
    this.attempt = Math.max(job.attemptsStarted, job.attemptsMade + 1);
    this.maxAttempts = job.opts.attempts ?? 1;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Aborts the signal if anyone holds it (a handler that never read it cannot react anyway), and tells listeners. */
  abort(reason: Error): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    for (const listener of this.abortListeners ?? []) listener(reason);
  }

  onAbort(listener: (reason: Error) => void): void {
    if (this.abortReason) listener(this.abortReason);
    else (this.abortListeners ??= []).push(listener);
  }

  /** Marks the job cancelled and aborts its signal. */
  cancel(): void {
    this.cancellation ??= new CeleriacError(ErrorCode.JobCancelled, `Job "${this.id}" was cancelled while it ran.`, {
      details: { id: this.id },
    });
    this.abort(this.cancellation);
  }

  /** Set once the job was moved back to the delayed set by {@link defer}. */
  deferred = false;

  async defer(delayMs: number): Promise<void> {
    await this.job.moveToDelayed(Date.now() + delayMs, this.token);
    this.deferred = true;
  }

  /** Puts the job back in its queue now, releasing this attempt's lock (its late outcome is then refused). */
  async handBack(): Promise<void> {
    await this.job.moveToWait(this.token);
  }

  /**
   * Puts the typed arrays of the input back from their blob.
   * @throws CeleriacError `CELERIAC_JOB_DATA_CORRUPT` when the blob is missing or corrupt
   */
  async decodeInput(): Promise<void> {
    const data = this.data as { input?: unknown } | null;
    if (typeof data !== 'object' || data === null || !isBinaryPayload(data.input)) return;
    this.data = { ...data, input: await this.binary.decodeInput(this.queue, this.id, data.input) };
  }

  /** Stores the typed arrays of a result as a blob in the job's hash; returns what BullMQ stores as returnvalue. */
  encodeResult(result: unknown): Promise<unknown> {
    return this.binary.encodeResult(this.queue, this.id, result);
  }

  async childResults(): Promise<ChildResults> {
    const [values, failures] = await Promise.all([this.job.getChildrenValues(), this.job.getIgnoredChildrenFailures()]);
    const decoded = await Promise.all(
      Object.entries(values).map(async ([key, value]): Promise<[string, unknown]> => {
        const id = idOfKey(key);
        const result = await this.binary.decodeResultAt(key, id, value as unknown);
        if (!result) throw childBlobGone(this.id, id);
        return [id, result.value];
      }),
    );
    return { values: new Map(decoded), failed: new Set(Object.keys(failures).map(idOfKey)) };
  }

  async log(line: string): Promise<void> {
    await Promise.all([this.job.log(line), this.appendLog(this.queue, this.id, line)]);
  }

  async progress(value: number | Readonly<Record<string, unknown>>): Promise<void> {
    await this.job.updateProgress(value as number | object);
  }
}

/** A child whose result had typed arrays was removed (and its blob with it) before the job waiting for it ran. */
function childBlobGone(jobId: string, childId: string): CeleriacError {
  return new CeleriacError(
    ErrorCode.JobDataCorrupt,
    `Job "${childId}", which job "${jobId}" waited for, was removed by retention before "${jobId}" ran, and the ` +
      'typed arrays of its result went with it. Raise the broker\'s retention.succeededCount, or return smaller results.',
    { details: { jobId, child: childId } },
  );
}

/** A child's id from its Redis key (`{prefix}:queue:id`); a workflow's job ids are UUIDs, without a colon. */
function idOfKey(key: string): string {
  return key.slice(key.lastIndexOf(':') + 1);
}

/** Where attempts that did not succeed are kept; see the broker's `attempts` key. */
export interface AttemptHistory {
  /** Records a failed attempt. */
  recordFailure(id: string, attempt: number, error: SerializedError): Promise<void>;
  /**
   * Records the attempts before `attempt` that left no record as lost: BullMQ started them (its `attemptsStarted`
   * counts them) but no outcome came back, because their worker died or was cut off.
   */
  recordLost(id: string, attempt: number): Promise<void>;
}

/** The BullMQ backoff type of celeriac jobs: {@link waitBeforeRetry} computes it from the job's own policy. */
export const celeriacBackoff = 'celeriac';

/** A failure on its way to BullMQ, carrying the wait the failure itself asked for, if any. */
class AttemptFailure extends Error {
  constructor(
    serialized: SerializedError,
    readonly requestedDelayMs: number | undefined,
  ) {
    super(JSON.stringify(serialized));
  }
}

const defaultBackoff = { backoff: 'exponential', delayMs: 1_000, maxDelayMs: 600_000, jitter: 0.2 } as const;

/**
 * BullMQ's backoff strategy for celeriac jobs: the policy travels in the job's envelope (`meta.retry`), so one
 * worker serves jobs enqueued with different per-call policies. A failure may ask for its own wait.
 */
export function waitBeforeRetry(attemptsMade: number, _type?: string, error?: Error, job?: { data?: unknown }): number {
  const meta = (job?.data as { meta?: { retry?: unknown } } | undefined)?.meta;
  const parsed = jobEnvelopeSchema.shape.meta.shape.retry.safeParse(meta?.retry);
  const policy = parsed.success && parsed.data ? parsed.data : defaultBackoff;
  const requested = error instanceof AttemptFailure ? error.requestedDelayMs : undefined;
  return computeBackoffMs(policy, attemptsMade, requested);
}

/**
 * Runs one job through the processor and turns its failure into what BullMQ stores: the serialised error as JSON
 * in `failedReason`, thrown as `UnrecoverableError` when no retry can help.
 */
export async function runConsumedJob(
  job: ConsumedJob,
  processor: JobProcessor,
  history: AttemptHistory,
  stats: JobStatsRecorder,
): Promise<unknown> {
  if (job.attempt - 1 > job.attemptsMade) await history.recordLost(job.id, job.attempt);
  const startedAtMs = performance.now();
  try {
    await job.decodeInput();
    const result = await processor(job);
    if (job.cancellation) throw job.cancellation;
    // BullMQ's way of saying "this job was moved to delayed on purpose": neither a success nor a failed attempt.
    if (job.deferred) throw new DelayedError();
    const encoded = await job.encodeResult(result);
    stats.recordRun(job.task, 'succeeded', performance.now() - startedAtMs);
    return encoded;
  } catch (caught) {
    if (caught instanceof DelayedError) throw caught;
    const serialized = serializeError(job.cancellation ?? caught);
    stats.recordRun(job.task, 'failed', performance.now() - startedAtMs);
    stats.recordFailure(job.task, serialized.code, !serialized.retryable || job.attemptsMade + 1 >= job.maxAttempts);
    await history.recordFailure(job.id, job.attempt, serialized);
    // UnrecoverableError makes BullMQ fail the job now instead of spending its remaining attempts.
    if (!serialized.retryable) throw new UnrecoverableError(JSON.stringify(serialized));
    const requested = serialized.details['retryDelayMs'];
    throw new AttemptFailure(serialized, typeof requested === 'number' ? requested : undefined);
  }
}
