import type { Job } from 'bullmq';
import type { EnqueueRequest, JobOutcome } from '@celeriac/broker';
import {
  ErrorCode,
  JobState,
  jobEnvelopeSchema,
  serializedErrorSchema,
  type JobRecord,
  type SerializedError,
} from '@celeriac/core';

/** A job's state as BullMQ names it (`Job.getState`, `Queue.getJobState`). */
export type BullState = Awaited<ReturnType<Job['getState']>>;

/** Maps BullMQ's states onto celeriac's; `undefined` for BullMQ's `unknown` (the job is gone). */
export function toJobState(state: BullState, attemptsMade: number): JobState | undefined {
  switch (state) {
    case 'completed':
      return JobState.Succeeded;
    case 'failed':
      return JobState.Failed;
    case 'active':
      return JobState.Active;
    case 'delayed':
      // A delayed job that already ran is waiting for its retry backoff, not for its first ETA.
      return attemptsMade > 0 ? JobState.Retrying : JobState.Scheduled;
    case 'waiting':
    case 'waiting-children':
    case 'prioritized':
      return JobState.Queued;
    default:
      return undefined;
  }
}

/**
 * Reads a failure back from BullMQ's `failedReason`, where the worker stores the serialised error as JSON. Text that
 * is not ours (a job failed by another tool, or by BullMQ itself on a stalled job) is kept as the message.
 */
export function parseFailedReason(failedReason: string): SerializedError {
  try {
    const parsed = serializedErrorSchema.safeParse(JSON.parse(failedReason));
    if (parsed.success) return parsed.data;
  } catch {
    // not JSON: fall through and keep the raw text
  }
  // BullMQ's own words for a job whose every attempt was lost (its worker died each time): a poison pill.
  if (failedReason === 'job stalled more than allowable limit') {
    return {
      code: ErrorCode.WorkerLost,
      message: 'Every attempt was lost with its worker (it stopped before the attempt finished), up to the stall limit.',
      retryable: false,
      details: { bullmq: failedReason },
    };
  }
  // BullMQ's words for a parent failed by a child under failParentOnFailure (a workflow's `onChildFailure: 'fail'`).
  const child = /^child (.+):([^:]+) failed$/.exec(failedReason)?.[2];
  if (child !== undefined) {
    return {
      code: ErrorCode.ChildFailed,
      message: `Job "${child}", which this job waited for, failed.`,
      retryable: false,
      details: { child },
    };
  }
  return { code: ErrorCode.HandlerError, message: failedReason, retryable: false, details: {} };
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined || ms === 0 ? undefined : new Date(ms).toISOString();

/**
 * Refines a state read from BullMQ with what celeriac knows beyond it: a failure with the expired or cancelled code
 * is that state, not `failed`; and a job still waiting after its expiry is reported `expired` at once, before a
 * worker picks it up and discards it (it will never run).
 */
export function refineState(state: JobState, errorCode: string | undefined, expiresAtMs: number | undefined): JobState {
  if (state === JobState.Failed && errorCode === ErrorCode.JobExpired) return JobState.Expired;
  if (state === JobState.Failed && errorCode === ErrorCode.JobCancelled) return JobState.Cancelled;
  const waiting = state === JobState.Queued || state === JobState.Scheduled || state === JobState.Retrying;
  if (waiting && expiresAtMs !== undefined && expiresAtMs <= Date.now()) return JobState.Expired;
  return state;
}

/** Builds the public {@link JobRecord} of a BullMQ job in a known state. */
export function toJobRecord(job: Job, bullState: JobState): JobRecord {
  const envelope = jobEnvelopeSchema.safeParse(job.data);
  const error = job.failedReason ? parseFailedReason(job.failedReason) : undefined;
  const state = refineState(bullState, error?.code, envelope.success ? envelope.data.meta.expiresAtMs : undefined);
  const runAtMs = job.opts.delay ? job.timestamp + job.opts.delay : undefined;
  const record: JobRecord = {
    id: String(job.id),
    task: job.name,
    queue: job.queueName,
    state,
    // Corrupt data is still shown (operators need to see it); the worker is what refuses to run it.
    input: envelope.success ? envelope.data.input : job.data,
    // BullMQ reads an unset attempts back as 0; every job gets at least its first attempt.
    attempts: { made: job.attemptsMade, max: Math.max(1, job.opts.attempts ?? 1) },
    priority: job.opts.priority ?? 0,
    createdAt: new Date(job.timestamp).toISOString(),
  };
  const optional = {
    result: state === JobState.Succeeded ? job.returnvalue : undefined,
    error,
    progress: typeof job.progress === 'number' && job.progress === 0 ? undefined : job.progress,
    runAt: state === JobState.Scheduled ? iso(runAtMs) : undefined,
    startedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(record, { [key]: value });
  }
  return record;
}

/** Narrows anything with a job's outcome fields (a record, or fields read one by one) to a {@link JobOutcome}. */
export function toJobOutcome(source: {
  readonly id: string;
  readonly task: string;
  readonly state: JobState;
  readonly result?: unknown;
  readonly error?: SerializedError | undefined;
}): JobOutcome {
  const { id, task, state, result, error } = source;
  return {
    id,
    task,
    state,
    ...(state === JobState.Succeeded ? { result } : {}),
    ...(error === undefined ? {} : { error }),
  };
}

/**
 * The record of a job this process has just created, built from the request without reading anything back: its
 * state follows from its delay, and its envelope needs no validation because it was made here.
 */
export function toFreshJobRecord(request: EnqueueRequest, id: string, timestampMs: number): JobRecord {
  const createdAt = new Date(timestampMs).toISOString();
  const record: JobRecord = {
    id,
    task: request.task,
    queue: request.queue,
    state: request.delayMs ? JobState.Scheduled : JobState.Queued,
    input: request.envelope.input,
    attempts: { made: 0, max: 1 },
    priority: request.priority ?? 0,
    createdAt,
  };
  if (request.delayMs) record.runAt = new Date(timestampMs + request.delayMs).toISOString();
  return record;
}
