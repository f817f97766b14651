import { Queue, QueueEvents, Worker } from 'bullmq';
import { connectRedis } from '../lib/redis-target.js';
import { keyPrefixOf, retention } from '../queue/trial.js';
import { LatencyRecorder, eventsFromStreamStart, latencyQueue, sendPaced, type LatencyTrial } from './latency-trial.js';

/**
 * The baseline: `queue.add()` with BullMQ's own ids and a `Worker` whose processor only notes its start, at the same
 * concurrency and retention as celeriac's side. Completions come from a `QueueEvents` listener, as celeriac's do.
 */
export const measureRawBullmqLatency: LatencyTrial = async (options) => {
  const prefix = keyPrefixOf(options.prefix);
  const recorder = new LatencyRecorder(options.jobs, options.timeoutMs, 'raw BullMQ');
  // BullMQ requires maxRetriesPerRequest: null on the connections of a worker and a QueueEvents (blocking reads).
  const [producerConnection, workerConnection, eventsConnection] = await Promise.all([
    connectRedis(options.url, {}),
    connectRedis(options.url, { maxRetriesPerRequest: null }),
    connectRedis(options.url, { maxRetriesPerRequest: null }),
  ]);
  const queue = new Queue(latencyQueue, { connection: producerConnection, prefix, defaultJobOptions: retention });
  const events = new QueueEvents(latencyQueue, { connection: eventsConnection, prefix, ...eventsFromStreamStart });
  const worker = new Worker(latencyQueue, async (job) => recorder.started((job.data as { seq: number }).seq), {
    connection: workerConnection,
    prefix,
    concurrency: options.concurrency,
  });
  events.on('completed', recorder.completed);
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
    await sendPaced(options.jobs, options.ratePerSecond, (seq) =>
      recorder.send(seq, async () => (await queue.add(latencyQueue, { seq })).id ?? ''),
    );
    await recorder.completions.done;
    return recorder.samples();
  } finally {
    await worker.close();
    await events.close();
    await queue.close();
    await Promise.all([producerConnection, workerConnection, eventsConnection].map((connection) => connection.quit()));
  }
};
