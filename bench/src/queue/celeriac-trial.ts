import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { z } from 'zod';
import { createClient } from '@celeriac/client';
import { defineTask } from '@celeriac/core';
import { createRedisBroker } from '@celeriac/redis';
import { createWorker, type Worker } from '@celeriac/worker';
import { createCountdown, runBounded, timeThroughput, type Throughput } from '../lib/measure.js';
import { assertNoFailures } from './assert-no-failures.js';
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
    // The client needs only the task's name, queue and input schema; the worker gets its own definition below.
    const noop = defineNoopTask(() => {});
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
 * Starts a worker on the full queue and times it until every job has completed. celeriac does not expose BullMQ's
 * `completed` event, so the clock stops in two steps that add no load while jobs run:
 * 1. the handler counts its calls; the N-th call means every job has been fetched and run;
 * 2. then the probe polls the active list until it is empty: the last jobs (up to `concurrency` of them) are still
 *    being moved to the completed set, and leaving that out would flatter celeriac by up to one batch of round trips.
 */
async function processAll(options: TrialOptions, probe: Queue): Promise<Throughput> {
  const workerBroker = createRedisBroker({ connection: options.url, prefix: options.prefix });
  await workerBroker.ping(options.timeoutMs);
  const handled = createCountdown(options.jobs, options.timeoutMs, 'celeriac processing');
  const noop = defineNoopTask(handled.tick);
  let worker: Worker | undefined;
  try {
    return await timeThroughput(options.jobs, async () => {
      const { concurrency } = options;
      worker = createWorker({ tasks: [noop], concurrency, broker: workerBroker, logger: silentLogger });
      await worker.start();
      await handled.done;
      while ((await probe.getActiveCount()) > 0) await sleep(1);
    });
  } finally {
    await worker?.close();
    await workerBroker.close();
  }
}

/** The no-op task: empty input and `null` output, the least a task can declare. `onRun` lets a worker count calls. */
function defineNoopTask(onRun: () => void) {
  return defineTask({
    name: 'noop',
    queue: queueName,
    input: z.object({}),
    output: z.null(),
    handler: () => {
      onRun();
      return null;
    },
  });
}
