import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { computeBackoffMs, jobEnvelopeSchema, serializeError, type SerializedError } from '@celeriac/core';
import type { Consumer, ConsumeOptions, JobProcessor, ReceivedJob } from '@celeriac/broker';

/** What the consumer needs from the broker that creates it. */
export interface ConsumerContext {
  readonly keyPrefix: string;
  /** Opens a blocking connection that the consumer owns and closes. */
  openConnection(): Redis;
}

/**
 * Starts one BullMQ worker per queue, all running `processor`. Failures are stored as JSON in BullMQ's
 * `failedReason`, so the typed error (code, details, retryable) survives the trip through Redis.
 */
export async function createConsumer(
  context: ConsumerContext,
  processor: JobProcessor,
  options: ConsumeOptions,
): Promise<Consumer> {
  const inFlight = new Set<ConsumedJob>();
  const connections: Redis[] = [];
  const workers = options.queues.map((queue) => {
    const connection = context.openConnection();
    connections.push(connection);
    return new Worker(queue, (job: Job) => runJob(job, processor, inFlight), {
      connection,
      prefix: context.keyPrefix,
      concurrency: options.concurrency,
      autorun: true,
      settings: { backoffStrategy: waitBeforeRetry },
    });
  });
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));

  return {
    async close(deadlineMs) {
      const graceful = Promise.all(workers.map((worker) => worker.close()));
      const timedOut = await raceDeadline(graceful, deadlineMs);
      if (timedOut) {
        // Past the deadline: tell handlers to stop, then close without waiting. Their jobs' locks lapse and BullMQ's
        // stall check hands them to another worker.
        for (const job of inFlight) job.abort(new Error('worker shutdown deadline passed'));
        await Promise.all(workers.map((worker) => worker.close(true)));
      }
      await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    },
  };
}

/** A BullMQ job as the processor sees it, with its abort signal made on first read. */
class ConsumedJob implements ReceivedJob {
  readonly id: string;
  readonly queue: string;
  readonly task: string;
  readonly data: unknown;
  readonly attemptsMade: number;
  private controller: AbortController | undefined;

  constructor(private readonly job: Job) {
    this.id = String(job.id);
    this.queue = job.queueName;
    this.task = job.name;
    this.data = job.data;
    this.attemptsMade = job.attemptsMade;
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** Aborts the signal if anyone holds it; a handler that never read it cannot react anyway. */
  abort(reason: Error): void {
    this.controller?.abort(reason);
  }

  async log(line: string): Promise<void> {
    await this.job.log(line);
  }

  async progress(value: number | Readonly<Record<string, unknown>>): Promise<void> {
    await this.job.updateProgress(value as number | object);
  }
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

/**
 * BullMQ's backoff strategy for celeriac jobs: the policy travels in the job's envelope (`meta.retry`), so one
 * worker serves jobs enqueued with different per-call policies. A failure may ask for its own wait.
 */
function waitBeforeRetry(attemptsMade: number, _type?: string, error?: Error, job?: { data?: unknown }): number {
  const meta = (job?.data as { meta?: { retry?: unknown } } | undefined)?.meta;
  const parsed = jobEnvelopeSchema.shape.meta.shape.retry.safeParse(meta?.retry);
  const policy = parsed.success && parsed.data ? parsed.data : defaultBackoff;
  const requested = error instanceof AttemptFailure ? error.requestedDelayMs : undefined;
  return computeBackoffMs(policy, attemptsMade, requested);
}

const defaultBackoff = { backoff: 'exponential', delayMs: 1_000, maxDelayMs: 600_000, jitter: 0.2 } as const;

async function runJob(job: Job, processor: JobProcessor, inFlight: Set<ConsumedJob>): Promise<unknown> {
  const consumed = new ConsumedJob(job);
  inFlight.add(consumed);
  try {
    return await processor(consumed);
  } catch (error) {
    const serialized = serializeError(error);
    // UnrecoverableError makes BullMQ fail the job now instead of spending its remaining attempts.
    if (!serialized.retryable) throw new UnrecoverableError(JSON.stringify(serialized));
    const requested = serialized.details['retryDelayMs'];
    throw new AttemptFailure(serialized, typeof requested === 'number' ? requested : undefined);
  } finally {
    inFlight.delete(consumed);
  }
}

async function raceDeadline(work: Promise<unknown>, deadlineMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<true>((resolve) => {
    timer = setTimeout(() => resolve(true), deadlineMs);
  });
  try {
    return await Promise.race([work.then(() => false), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
