import type { Queue } from 'bullmq';
import { JobSource, JobState, createJobEnvelope, type JobRecord } from '@celeriac/core';
import type { EnqueueRequest, RetryOutcome } from '@celeriac/broker';

/** What a retry reads and writes through the broker. */
export interface RetryJobContext {
  findQueue(id: string): Promise<Queue | undefined>;
  /** The job's celeriac state; `undefined` when the queue holds no such job. */
  readState(queue: Queue, id: string): Promise<JobState | undefined>;
  /** The record of a job cancelled before it ran. */
  readCancelled(id: string): Promise<JobRecord | undefined>;
  enqueue(request: EnqueueRequest): Promise<unknown>;
  /** Removes a cancellation record and its index entry. */
  dropCancelled(id: string): Promise<void>;
}

/**
 * Runs a failed or cancelled job again under its id. A job in BullMQ's failed set (failed, or cancelled while it
 * ran) goes back to waiting with BullMQ's retry, counters kept: the retry is attempt N+1, and the attempt history
 * keeps attempts 1..N. A job cancelled before it ran has only its cancellation record, and is created again from it.
 */
export async function retryJob(context: RetryJobContext, id: string): Promise<RetryOutcome> {
  const queue = await context.findQueue(id);
  const state = queue && (await context.readState(queue, id));
  if (!queue || !state) return retryCancelled(context, id);
  if (state !== JobState.Failed && state !== JobState.Cancelled) return { outcome: 'not-retryable', state };
  const job = await queue.getJob(id);
  if (!job) return { outcome: 'not-found' };
  await job.retry('failed');
  return { outcome: 'retried', previousState: state };
}

/**
 * Re-creates a job cancelled before it ran: same id, queue, task, input, priority and attempts. The rest of its
 * envelope (expiry, backoff, time limits) was not kept in the record, so the task's defaults apply.
 */
async function retryCancelled(context: RetryJobContext, id: string): Promise<RetryOutcome> {
  const record = await context.readCancelled(id);
  if (!record) return { outcome: 'not-found' };
  // The job first, then the record: a reader prefers the live job, so there is no moment with neither.
  await context.enqueue({
    queue: record.queue,
    task: record.task,
    envelope: createJobEnvelope(record.input, { source: JobSource.Sdk }),
    jobId: id,
    priority: record.priority,
    attempts: record.attempts.max,
  });
  await context.dropCancelled(id);
  return { outcome: 'retried', previousState: JobState.Cancelled };
}
