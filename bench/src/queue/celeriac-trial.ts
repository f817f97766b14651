import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createClient } from '@celeriac/client';
import { createRedisBroker } from '@celeriac/redis';
import { createWorker } from '@celeriac/worker';
import { createCountdown, runBounded, timeThroughput, type Throughput } from '../lib/measure.js';
import { defineCountingNoopTask } from '../lib/counting-noop-task.js';
import { assertNoFailures } from './assert-no-failures.js';
import { noop } from './noop-task.js';
import { queueName, type Trial, type TrialOptions } from './trial.js';

/** Logging off, so the figures measure the queue and not pino's serialisation. */
const silentLogger = pino({ level: 'silent' });

/**
 * celeriac's side: `client.enqueue(noop, {})` and `createWorker({ tasks: [noop] })`, through the public packages
 * only. A raw BullMQ queue on celeriac's keys serves as a probe, read only outside the timed work (see
 * {@link processAll}).
 */
export const runCeleriacTrial: Trial = async (options) => {
  const broker = createRedisBroker({ connection: options.url, prefix: options.prefix });
  const client = createClient({ broker });
  const probeConnection = new Redis(options.url);
  const probe = new Queue(queueName, { connection: probeConnection, prefix: broker.prefix });
  try {
    await Promise.all([broker.ping(options.timeoutMs), once(probeConnection, 'ready')]);
    const enqueue = await timeThroughput(options.jobs, () =>
      runBounded(options.jobs, options.enqueueInFlight, () => client.enqueue(noop, {})),
    );
    const processing = await processAll(options, probe);
    await assertNoFailures(probe, 'celeriac');
    return { enqueue, process: processing };
  } finally {
    await client.close();
    await broker.close();
    await probe.close();
    await probeConnection.quit();
  }
};

/**
 * Starts a worker on the full queue, paused, then times it from the queue's resume until every job has completed.
 * celeriac does not expose BullMQ's `completed` event, so the clock stops another way:
 * - inline, in two steps that add no load while jobs run: the handler counts its calls (the N-th call means every
 *   job has been fetched and run), then the probe polls the active list until it is empty, since the last jobs (up
 *   to `concurrency` of them) are still being moved to the completed set;
 * - in the sandbox, the handler runs in another thread and cannot count for us, so the probe polls the waiting and
 *   active lists every 2 ms until both are empty. That is one light Redis call per poll, a load raw BullMQ's side
 *   does not carry.
 */
async function processAll(options: TrialOptions, probe: Queue): Promise<Throughput> {
  const workerBroker = createRedisBroker({ connection: options.url, prefix: options.prefix });
  await workerBroker.ping(options.timeoutMs);
  const handled =
    options.isolation === 'inline' ? createCountdown(options.jobs, options.timeoutMs, 'celeriac processing') : undefined;
  await probe.pause();
  const worker = createWorker({
    tasks: [handled ? defineCountingNoopTask('noop', queueName, handled.tick) : noop],
    concurrency: options.concurrency,
    broker: workerBroker,
    logger: silentLogger,
    ...(handled ? {} : { tasksModule: noopTaskModule }),
  });
  try {
    await worker.start();
    return await timeThroughput(options.jobs, async () => {
      await probe.resume();
      if (handled) {
        await handled.done;
        while ((await probe.getActiveCount()) > 0) await sleep(1);
      } else {
        await waitUntilDrained(probe, options.timeoutMs);
      }
    });
  } finally {
    await worker.close();
    await workerBroker.close();
  }
}

/** Polls until the queue has no waiting or active job. */
async function waitUntilDrained(probe: Queue, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await probe.getJobCountByTypes('wait', 'prioritized', 'active')) > 0) {
    if (Date.now() > deadline) throw new Error(`celeriac processing: jobs still waiting after ${timeoutMs} ms`);
    await sleep(2);
  }
}

const noopTaskModule = new URL('./noop-task.js', import.meta.url);

