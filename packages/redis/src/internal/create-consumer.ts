import { WaitingError, Worker, type Job, type JobJson } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Consumer, ConsumeOptions, JobProcessor } from '@celeriac/broker';
import { ConsumedJob, runConsumedJob, waitBeforeRetry, type AttemptHistory } from './consumed-job.js';
import type { BinaryStore } from './binary-store.js';
import type { JobStatsRecorder } from './stats/job-stats-recorder.js';

/** What the consumer needs from the broker that creates it. */
export interface ConsumerContext {
  readonly keyPrefix: string;
  /** The pub/sub channel on which running jobs are cancelled (a message is the job id). */
  readonly cancelChannel: string;
  /** Keeps the records of attempts that did not succeed. */
  readonly history: AttemptHistory;
  /** Reads the typed arrays of inputs, and stores those of results. */
  readonly binary: BinaryStore;
  /** Opens a blocking connection that the consumer owns and closes. */
  openConnection(): Redis;
  /** Records a job's log line where live views follow it. */
  readonly appendLog: (queue: string, id: string, line: string) => Promise<void>;
  /** Counts attempts' durations and failures for metrics. */
  readonly stats: JobStatsRecorder;
}

/**
 * How long an idle fetch loop blocks in Redis (BZPOPMIN on the queue's marker) before it polls again, in seconds:
 * BullMQ's `drainDelay`, set here because liveness probes rely on it. An idle worker completes a poll at least this
 * often (at most 10 s apart when delayed jobs wait), so "no poll for a minute" means a stuck or dead loop.
 */
const idleBlockSeconds = 5;

/**
 * How long a fetch loop waits before it tries Redis again after a fetch or a job's completion failed: BullMQ's
 * `runRetryDelay`, 15 s by default. A second lets a worker resume soon after a network blip or a Redis restart, and
 * lands a completion held up by a blip before its lease lapses (when the job would run again elsewhere).
 */
const retryAfterFailureMs = 1_000;

/**
 * A BullMQ worker that records when its fetch loop last heard back from Redis. Every successful fetch, from the
 * loop's own `moveToActive` (run after each blocking wait, job or not) or from a finished job's fetch of the next
 * one, ends in `nextJobFromJobData`, BullMQ's extension point for turning fetched data into a job. A fetch that
 * fails never gets there, and BullMQ's watchdog on the blocking wait ends a wedged BZPOPMIN in a fetch that does.
 */
class PolledWorker extends Worker {
  /** When a fetch last came back from Redis (epoch ms). */
  lastPollAtMs: number | undefined;

  protected override nextJobFromJobData(jobData?: JobJson, jobId?: string, token?: string): Promise<Job> {
    this.lastPollAtMs = Date.now();
    return super.nextJobFromJobData(jobData, jobId, token);
  }
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
  /** Jobs running per queue: a queue whose slots are all busy has no poll due. */
  const busy = new Map<string, number>();
  /** Whether `pause()` stopped fetching (until `resume()`). */
  let paused = false;
  const connections: Redis[] = [];
  const open = (): Redis => {
    const connection = context.openConnection();
    connections.push(connection);
    return connection;
  };
  /** A queue's fetch limit: the consumer's concurrency, capped by the queue's own limit, if it has one. */
  const concurrencyOf = (queue: string, concurrency: number): number =>
    Math.min(concurrency, options.queueConcurrency?.[queue] ?? concurrency);
  const workers = options.queues.map((queue) => {
    const worker = new PolledWorker(
      queue,
      (job: Job, token?: string) => run(queue, new ConsumedJob(job, token, context.binary, context.appendLog)),
      {
        connection: open(),
        prefix: context.keyPrefix,
        concurrency: concurrencyOf(queue, options.concurrency),
        lockDuration: options.leaseMs,
        // Check for stalled (lost) jobs as often as a lease can lapse: recovery takes at most about two leases.
        stalledInterval: options.leaseMs,
        maxStalledCount: options.maxLostAttempts,
        // BullMQ's limiter lives in Redis, so it holds across every worker of the queue.
        ...(options.queueRateLimits?.[queue]
          ? { limiter: { max: options.queueRateLimits[queue].limit, duration: options.queueRateLimits[queue].perMs } }
          : {}),
        drainDelay: idleBlockSeconds,
        runRetryDelay: retryAfterFailureMs,
        autorun: true,
        settings: { backoffStrategy: waitBeforeRetry },
      },
    );
    // Without a listener, BullMQ prints its loop's errors to stderr (an 'error' event nobody hears throws).
    const { onError } = options;
    if (onError) worker.on('error', (error) => onError(error, queue));
    return worker;
  });
  const run = async (queue: string, job: ConsumedJob): Promise<unknown> => {
    // A pause cannot call back a fetch already blocked in Redis: a job it brings in after the pause goes straight
    // back to waiting, and BullMQ's WaitingError says so (no attempt spent).
    if (paused) {
      await job.handBack();
      throw new WaitingError();
    }
    inFlight.set(job.id, job);
    busy.set(queue, (busy.get(queue) ?? 0) + 1);
    try {
      return await runConsumedJob(job, processor, context.history, context.stats);
    } finally {
      inFlight.delete(job.id);
      busy.set(queue, busy.get(queue)! - 1);
    }
  };
  /** The loops that should be fetching now: not paused, and with a free slot. */
  const dueLoops = (): PolledWorker[] =>
    paused ? [] : workers.filter((worker, index) => (busy.get(options.queues[index]!) ?? 0) < worker.concurrency);
  const subscriber = open();
  // It reconnects and resubscribes on its own; the fetch loops report the outage (onError), once per loop.
  subscriber.on('error', () => {});
  subscriber.on('message', (_channel: string, id: string) => inFlight.get(id)?.cancel());
  await Promise.all([...workers.map((worker) => worker.waitUntilReady()), subscriber.subscribe(context.cancelChannel)]);

  return {
    get lastPollAtMs() {
      // The stalest loop that should be polling speaks for the consumer: one dead loop among live ones is still dead.
      const due = dueLoops();
      const polls = (due.length > 0 ? due : workers).map((worker) => worker.lastPollAtMs);
      return polls.includes(undefined) ? undefined : Math.min(...(polls as number[]));
    },
    get pollDue() {
      return dueLoops().length > 0;
    },
    // Not waiting for running jobs: a pause stops fetching now, and what runs finishes as usual.
    pause: async () => {
      paused = true;
      await Promise.all(workers.map((worker) => worker.pause(true)));
    },
    resume: async () => {
      paused = false;
      await Promise.all(workers.map((worker) => worker.resume()));
    },
    async setConcurrency(concurrency) {
      for (const [index, worker] of workers.entries()) worker.concurrency = concurrencyOf(options.queues[index]!, concurrency);
      // A BullMQ worker at its old limit waits for a running job to finish before it looks at the limit again. A
      // pause without waiting, then a resume, wakes it now (resume is BullMQ's own way of waking its fetch loop).
      if (paused) return;
      await Promise.all(workers.map(async (worker) => {
        await worker.pause(true);
        await worker.resume();
      }));
    },
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
