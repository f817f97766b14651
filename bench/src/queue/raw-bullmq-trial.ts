import { Queue, Worker } from 'bullmq';
import { createCountdown, runBounded, timeThroughput, type Throughput } from '../lib/measure.js';
import { connectRedis } from '../lib/redis-target.js';
import { assertNoFailures } from './assert-no-failures.js';
import { keyPrefixOf, queueName, retention, type Trial, type TrialOptions } from './trial.js';

/**
 * The baseline: what a user writes with BullMQ alone. `queue.add(name, data)` with BullMQ's own ids, and a worker
 * whose processor does nothing. Retention equals celeriac's so both pay the same completed-set trimming.
 */
export const runRawBullmqTrial: Trial = async (options) => {
  const connection = await connectRedis(options.url);
  const queue = new Queue(queueName, { connection, prefix: keyPrefixOf(options.prefix), defaultJobOptions: retention });
  try {
    await queue.waitUntilReady();
    const enqueue = await timeThroughput(options.jobs, () =>
      runBounded(options.jobs, options.enqueueInFlight, () => queue.add(queueName, {})),
    );
    const processing = await processAll(options, queue);
    await assertNoFailures(queue, 'raw BullMQ');
    return { enqueue, process: processing };
  } finally {
    await queue.close();
    await connection.quit();
  }
};

/**
 * Starts a worker on the full queue, paused, then times it from the queue's resume until BullMQ's in-process
 * `completed` event has fired for every job: that event follows the job's move to the completed set, so it marks
 * the end exactly and costs one emit.
 */
async function processAll(options: TrialOptions, queue: Queue): Promise<Throughput> {
  // BullMQ requires maxRetriesPerRequest: null on a worker's connection; it is ready before the clock starts.
  const connection = await connectRedis(options.url, { maxRetriesPerRequest: null });
  const completed = createCountdown(options.jobs, options.timeoutMs, 'raw BullMQ processing');
  await queue.pause();
  const worker = new Worker(queueName, async () => {}, {
    connection,
    prefix: keyPrefixOf(options.prefix),
    concurrency: options.concurrency,
  });
  worker.on('completed', completed.tick);
  try {
    await worker.waitUntilReady();
    return await timeThroughput(options.jobs, async () => {
      await queue.resume();
      await completed.done;
    });
  } finally {
    await worker.close();
    await connection.quit();
  }
}
