/**
 * Soak: 200,000 no-op jobs through one celeriac worker process; its RSS over time and Redis memory per retained job.
 *
 * Run it with `npm run bench -- soak [--jobs 200000] [--concurrency 50] [--backlog 5000]`. The worker runs in a
 * child process (`createWorker`, inline no-op handler) that reports its own memory every half second; this process
 * enqueues, keeping at most `--backlog` jobs waiting, and reads Redis's `used_memory`. The run fails (⚠, exit code 1)
 * when the worker's RSS trend over the second half of the jobs grows by more than {@link rssGrowthLimitMiB} MiB, when
 * its heap after a full GC grows by more than {@link heapGrowthLimitMiB} MiB over that half, or when retention leaves
 * more succeeded jobs than its 1,000 per queue. There is no baseline: the figures are judged
 * against those limits. Set `REDIS_URL` to use an existing server (its memory figures then include everyone's);
 * otherwise a private redis-server without persistence is spawned.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createClient, type Client } from '@celeriac/client';
import { createRedisBroker } from '@celeriac/redis';
import type { BenchReport, BenchRunOptions } from './lib/bench-report.js';
import { runBounded } from './lib/measure.js';
import { positiveInteger } from './lib/positive-integer.js';
import { deleteKeys, describeRedisTarget, openRedisTarget, type RedisTarget } from './lib/redis-target.js';
import { readKeyMemory, readUsedMemory } from './soak/redis-memory.js';
import { analyseRssTrend } from './soak/rss-trend.js';
import type { MemorySample } from './soak/soak-messages.js';
import { soakQueue } from './soak/soak-messages.js';
import { mib, toSoakReport, type RedisMemory, type SoakFindings, type SoakOptions } from './soak/soak-report.js';
import { defineCountingNoopTask } from './lib/counting-noop-task.js';
import { SoakWorkerProcess } from './soak/soak-worker-process.js';

/**
 * The most the worker's RSS trend line may rise over the second half of the jobs. RSS moves in steps that are not
 * leaks: V8 grows its heap when its GC heuristics decide to, and one such step raised the trend by 18.6 MiB in a
 * 200,000-job run on this machine whose heap after a full GC stayed flat (16.4 → 17.5 → 17.1 MiB; docs/benchmarks.md,
 * Soak). 32 MiB is about twice that step; a native leak (a Buffer kept per job, say) above 340 bytes a job still
 * crosses it over the second half of 200,000 jobs. Leaks of JavaScript objects are caught far more finely by
 * {@link heapGrowthLimitMiB}.
 */
export const rssGrowthLimitMiB = 32;
/**
 * The most the worker's heap after a full GC may grow from the middle of the soak to its end. A settled heap holds
 * only what is still referenced, so it varies by well under 1 MiB without a leak (+0.9 MiB and −0.4 MiB in the runs
 * recorded), and one retained object per job, even 40 bytes, adds 4 MiB over the second half of 200,000 jobs.
 */
export const heapGrowthLimitMiB = 4;
/** celeriac's default retention of succeeded jobs per queue (`redis-broker-options.ts`). */
const succeededCount = 1_000;
const sampleIntervalMs = 500;
const enqueueInFlight = 100;
const noop = defineCountingNoopTask('soak-noop', soakQueue);

/** Everything one soak run holds open. */
interface SoakContext {
  readonly options: SoakOptions;
  readonly target: RedisTarget;
  readonly client: Client;
  readonly probe: Queue;
  readonly worker: SoakWorkerProcess;
  readonly log: (line: string) => void;
}

/** Runs the soak and returns its report; see the file's opening comment. */
export async function run({ args, quick, log }: BenchRunOptions): Promise<BenchReport> {
  const options = parseOptions(args, quick);
  const target = await openRedisTarget();
  const prefix = `bench-soak-${randomBytes(3).toString('hex')}`;
  const broker = createRedisBroker({ connection: target.url, prefix });
  const client = createClient({ broker });
  const probeConnection = new Redis(target.url);
  const probe = new Queue(soakQueue, { connection: probeConnection, prefix: broker.prefix });
  let worker: SoakWorkerProcess | undefined;
  try {
    const redis = await describeRedisTarget(target);
    const settings = { url: target.url, prefix, concurrency: options.concurrency, sampleIntervalMs };
    const started = await SoakWorkerProcess.start(settings);
    worker = started.process;
    log(`worker process started: RSS ${mib(started.ready.rss)} MiB after a full GC`);
    const findings = await soak({ options, target, client, probe, worker, log });
    return toSoakReport(options, redis, findings, { rssGrowthLimitMiB, heapGrowthLimitMiB, succeededCount });
  } finally {
    await worker?.stop();
    await client.close();
    await broker.close();
    await probe.close();
    await probeConnection.quit();
    await deleteKeys(target.admin, `{${prefix}}`);
    await target.close();
  }
}

async function soak(context: SoakContext): Promise<SoakFindings> {
  const { options, worker, log } = context;
  // One job first: it registers the queue and loads BullMQ's scripts, which the baseline must already include.
  await context.client.enqueue(noop, {});
  await waitUntilProcessed(context, 1);
  const baseline = await readRedisMemory(context);
  const start = await worker.settle();
  const waitingJobs = Math.min(10_000, Math.floor(options.jobs / 10));
  const perWaitingJob = await measureWaitingJobs(context, waitingJobs);
  log(`Redis: ${Math.round(perWaitingJob)} bytes per waiting job (${waitingJobs} jobs enqueued on a paused queue)`);
  const startedAt = Date.now();
  const { middle, peakUsedBytes } = await enqueueTheRest(context, waitingJobs);
  await waitUntilProcessed(context, options.jobs + 1);
  const elapsedS = (Date.now() - startedAt) / 1_000;
  // One more periodic reading, so the series ends after the last job.
  await sleep(sampleIntervalMs * 1.5);
  const end = await worker.settle();
  const after = await readRedisMemory(context);
  const retained = await context.probe.getCompletedCount();
  const trend = analyseRssTrend(start, worker.samples.filter((sample) => sample.atMs >= start.atMs), options.jobs);
  log(`done: ${options.jobs} jobs in ${elapsedS.toFixed(1)} s; RSS ${mib(trend.startBytes)} → ${mib(trend.endBytes)} MiB`);
  return { trend, start, middle, end, baseline, after, peakUsedBytes, retained, perWaitingJob, waitingJobs, elapsedS };
}

/** Enqueues `count` jobs on a paused queue and returns Redis's bytes per waiting job; then resumes the queue. */
async function measureWaitingJobs(context: SoakContext, count: number): Promise<number> {
  await context.probe.pause();
  const before = await readUsedMemory(context.target.admin);
  await runBounded(count, enqueueInFlight, () => context.client.enqueue(noop, {}));
  const after = await readUsedMemory(context.target.admin);
  await context.probe.resume();
  return (after - before) / count;
}

/**
 * Enqueues the jobs after the first `alreadyEnqueued`, never more than `--backlog` ahead of the worker, so Redis holds
 * a bounded queue as in a steady production load rather than 200,000 waiting jobs. Logs progress every 5 s, takes a
 * settled reading of the worker once half the jobs have run, and tracks Redis's peak memory.
 */
async function enqueueTheRest(context: SoakContext, alreadyEnqueued: number) {
  const { options, worker, log } = context;
  let middle: MemorySample | undefined;
  let peakUsedBytes = 0;
  const startedAt = Date.now();
  const monitor = setInterval(() => {
    void (async () => {
      peakUsedBytes = Math.max(peakUsedBytes, await readUsedMemory(context.target.admin));
      const latest = worker.samples.at(-1);
      const seconds = ((Date.now() - startedAt) / 1_000).toFixed(0);
      log(`${worker.processed}/${options.jobs} jobs after ${seconds} s, worker RSS ${mib(latest?.rss ?? 0)} MiB, ` +
        `Redis ${mib(peakUsedBytes)} MiB peak`);
    })().catch(() => {});
  }, 5_000);
  const settleAtMiddle = (async () => {
    while (worker.processed < options.jobs / 2) await sleep(sampleIntervalMs);
    middle = await worker.settle();
  })();
  try {
    let next = alreadyEnqueued;
    await runBounded(options.jobs - alreadyEnqueued, enqueueInFlight, async () => {
      while (next - worker.processed > options.backlog) await sleep(10);
      next++;
      await context.client.enqueue(noop, {});
    });
    await settleAtMiddle;
  } finally {
    clearInterval(monitor);
  }
  peakUsedBytes = Math.max(peakUsedBytes, await readUsedMemory(context.target.admin));
  if (!middle) throw new Error('no reading was taken at the middle of the soak');
  return { middle, peakUsedBytes };
}

/** Waits until the worker has run `count` jobs and the queue holds none waiting or active. */
async function waitUntilProcessed(context: SoakContext, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (
    context.worker.processed < count ||
    (await context.probe.getJobCountByTypes('wait', 'prioritized', 'active')) > 0
  ) {
    if (Date.now() > deadline) throw new Error(`soak: only ${context.worker.processed} of ${count} jobs ran within 2 min`);
    await sleep(100);
  }
}

async function readRedisMemory(context: SoakContext): Promise<RedisMemory> {
  return {
    usedBytes: await readUsedMemory(context.target.admin),
    streamBytes: await readKeyMemory(context.target.admin, context.probe.keys.events ?? ''),
  };
}

/** `--jobs` (default 200,000; `--quick` 10,000), `--concurrency` (50), `--backlog` (5,000). */
function parseOptions(args: readonly string[], quick: boolean): SoakOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      jobs: { type: 'string', default: quick ? '10000' : '200000' },
      concurrency: { type: 'string', default: '50' },
      backlog: { type: 'string', default: '5000' },
    },
  });
  const jobs = positiveInteger('--jobs', values.jobs);
  if (jobs < 1_000) throw new Error('--jobs must be at least 1,000: fewer leave too few readings for a trend');
  return {
    jobs,
    concurrency: positiveInteger('--concurrency', values.concurrency),
    backlog: positiveInteger('--backlog', values.backlog),
    sampleIntervalMs,
  };
}
