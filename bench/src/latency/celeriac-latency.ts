import { once } from 'node:events';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { z } from 'zod';
import { createClient } from '@celeriac/client';
import { defineTask } from '@celeriac/core';
import { createRedisBroker } from '@celeriac/redis';
import { createWorker } from '@celeriac/worker';
import { LatencyRecorder, eventsFromStreamStart, latencyQueue, sendPaced, type LatencyTrial } from './latency-trial.js';

/**
 * celeriac's side: `client.enqueue()` and `createWorker()` with an inline handler that only notes its start, through
 * the public packages. celeriac exposes no completion event of its own, so a raw BullMQ `QueueEvents` on celeriac's
 * keys hears the same `completed` events the baseline's listener does: both sides' completion times pay the same
 * stream read.
 */
export const measureCeleriacLatency: LatencyTrial = async (options) => {
  const recorder = new LatencyRecorder(options.jobs, options.timeoutMs, 'celeriac');
  const task = defineTask({
    name: 'latency-probe',
    queue: latencyQueue,
    input: z.object({ seq: z.number().int() }),
    output: z.null(),
    isolation: 'inline',
    handler: ({ seq }) => {
      recorder.started(seq);
      return null;
    },
  });
  const broker = createRedisBroker({ connection: options.url, prefix: options.prefix });
  const workerBroker = createRedisBroker({ connection: options.url, prefix: options.prefix });
  const client = createClient({ broker });
  const worker = createWorker({
    tasks: [task],
    broker: workerBroker,
    concurrency: options.concurrency,
    logger: pino({ level: 'silent' }),
  });
  const eventsConnection = new Redis(options.url, { maxRetriesPerRequest: null });
  const events = new QueueEvents(latencyQueue, { connection: eventsConnection, prefix: broker.prefix, ...eventsFromStreamStart });
  events.on('completed', recorder.completed);
  try {
    await Promise.all([broker.ping(options.timeoutMs), once(eventsConnection, 'ready')]);
    await Promise.all([worker.start(), events.waitUntilReady()]);
    await sendPaced(options.jobs, options.ratePerSecond, (seq) =>
      recorder.send(seq, async () => (await client.enqueue(task, { seq })).id),
    );
    await recorder.completions.done;
    return recorder.samples();
  } finally {
    await worker.close();
    await events.close();
    await client.close();
    await Promise.all([broker.close(), workerBroker.close(), eventsConnection.quit()]);
  }
};
