import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { z } from 'zod';
import { createClient } from '@celeriac/client';
import { defineTask } from '@celeriac/core';
import { createRedisBroker } from '@celeriac/redis';
import { createWorker, type Worker } from '@celeriac/worker';
import { createCountdown, runBounded, timeThroughput, type Throughput } from '../lib/measure.js';
import { assertNoFailures } from './assert-no-failures.js';
import { noop } from './noop-task.js';
import { keyPrefixOf, queueName, type Trial, type TrialOptions } from './trial.js';

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
  const sandboxed = options.isolation === 'sandbox';
  // A sandboxed handler runs in another thread, so it cannot count for us: BullMQ's completion events do instead.
  const events = sandboxed ? await listenForCompletions(options, handled.tick) : undefined;
  const tasks = [sandboxed ? noop : defineNoopTask(handled.tick)];
  let worker: Worker | undefined;
  try {
    return await timeThroughput(options.jobs, async () => {
      const { concurrency } = options;
      worker = createWorker({
        tasks,
        concurrency,
        broker: workerBroker,
        logger: silentLogger,
        ...(sandboxed ? { tasksModule: noopTaskModule } : {}),
      });
      await worker.start();
      await handled.done;
      while ((await probe.getActiveCount()) > 0) await sleep(1);
    });
  } finally {
    await worker?.close();
    await events?.close();
    await workerBroker.close();
  }
}

const noopTaskModule = new URL('./noop-task.js', import.meta.url);

/** Counts completions from the queue's event stream, ready before the clock starts. */
async function listenForCompletions(options: TrialOptions, tick: () => void): Promise<QueueEvents> {
  const events = new QueueEvents(queueName, { connection: { url: options.url }, prefix: keyPrefixOf(options.prefix) });
  events.on('completed', tick);
  await events.waitUntilReady();
  return events;
}

/** The inline no-op task: like {@link noop}, but `onRun` counts its calls, which is exact and costs nothing. */
function defineNoopTask(onRun: () => void) {
  return defineTask({
    name: 'noop',
    queue: queueName,
    input: z.object({}),
    output: z.null(),
    isolation: 'inline',
    handler: () => {
      onRun();
      return null;
    },
  });
}
