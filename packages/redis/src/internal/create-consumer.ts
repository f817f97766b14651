import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Consumer, ConsumeOptions, JobProcessor } from '@celeriac/broker';
import { ConsumedJob, runConsumedJob, waitBeforeRetry, type AttemptHistory } from './consumed-job.js';

/** What the consumer needs from the broker that creates it. */
export interface ConsumerContext {
  readonly keyPrefix: string;
  /** The pub/sub channel on which running jobs are cancelled (a message is the job id). */
  readonly cancelChannel: string;
  /** Keeps the records of attempts that did not succeed. */
  readonly history: AttemptHistory;
  /** Opens a blocking connection that the consumer owns and closes. */
  openConnection(): Redis;
}

/**
 * Starts one BullMQ worker per queue, all running `processor`, and listens for cancellations of the jobs it runs.
 * Failures are stored as JSON in BullMQ's `failedReason`, so the typed error survives the trip through Redis.
 */
export async function createConsumer(
  context: ConsumerContext,
  processor: JobProcessor,
  options: ConsumeOptions,
): Promise<Consumer> {
  const inFlight = new Map<string, ConsumedJob>();
  const connections: Redis[] = [];
  const open = (): Redis => {
    const connection = context.openConnection();
    connections.push(connection);
    return connection;
  };
  const workers = options.queues.map(
    (queue) =>
      new Worker(queue, (job: Job, token?: string) => run(new ConsumedJob(job, token)), {
        connection: open(),
        prefix: context.keyPrefix,
        concurrency: options.concurrency,
        lockDuration: options.leaseMs,
        // Check for stalled (lost) jobs as often as a lease can lapse: recovery takes at most about two leases.
        stalledInterval: options.leaseMs,
        maxStalledCount: options.maxLostAttempts,
        // BullMQ's limiter lives in Redis, so it holds across every worker of the queue.
        ...(options.queueRateLimits?.[queue]
          ? { limiter: { max: options.queueRateLimits[queue].limit, duration: options.queueRateLimits[queue].perMs } }
          : {}),
        autorun: true,
        settings: { backoffStrategy: waitBeforeRetry },
      }),
  );
  const run = async (job: ConsumedJob): Promise<unknown> => {
    inFlight.set(job.id, job);
    try {
      return await runConsumedJob(job, processor, context.history);
    } finally {
      inFlight.delete(job.id);
    }
  };
  const subscriber = open();
  subscriber.on('message', (_channel: string, id: string) => inFlight.get(id)?.cancel());
  await Promise.all([...workers.map((worker) => worker.waitUntilReady()), subscriber.subscribe(context.cancelChannel)]);

  return {
    async close(deadlineMs) {
      const graceful = Promise.all(workers.map((worker) => worker.close()));
      const handedBack: string[] = [];
      if (await raceDeadline(graceful, deadlineMs)) {
        // Past the deadline: hand the jobs still running back to their queue now, rather than leave them to the
        // stall check (a lease later), and tell their handlers to stop. A late outcome of theirs is refused,
        // because this attempt no longer holds the job's lock.
        for (const job of inFlight.values()) {
          job.abort(new Error('worker shutdown deadline passed'));
          await job.handBack().then(() => handedBack.push(job.id), () => undefined);
        }
        await Promise.all(workers.map((worker) => worker.close(true)));
      }
      await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
      return { handedBack };
    },
  };
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
