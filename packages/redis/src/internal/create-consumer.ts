import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { isCeleriacError, serializeError } from '@celeriac/core';
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
  const inFlight = new Set<AbortController>();
  const connections: Redis[] = [];
  const workers = options.queues.map((queue) => {
    const connection = context.openConnection();
    connections.push(connection);
    return new Worker(queue, (job: Job) => runJob(job, processor, inFlight), {
      connection,
      prefix: context.keyPrefix,
      concurrency: options.concurrency,
      autorun: true,
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
        for (const controller of inFlight) controller.abort(new Error('worker shutdown deadline passed'));
        await Promise.all(workers.map((worker) => worker.close(true)));
      }
      await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    },
  };
}

async function runJob(job: Job, processor: JobProcessor, inFlight: Set<AbortController>): Promise<unknown> {
  const controller = new AbortController();
  inFlight.add(controller);
  const received: ReceivedJob = {
    id: String(job.id),
    queue: job.queueName,
    task: job.name,
    data: job.data,
    attemptsMade: job.attemptsMade,
    log: async (line) => {
      await job.log(line);
    },
  };
  try {
    return await processor(received, controller.signal);
  } catch (error) {
    const serialized = JSON.stringify(serializeError(error));
    // UnrecoverableError makes BullMQ fail the job now instead of spending its remaining attempts.
    throw isCeleriacError(error) && !error.retryable ? new UnrecoverableError(serialized) : new Error(serialized);
  } finally {
    inFlight.delete(controller);
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
