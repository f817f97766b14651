import { describe, expect, it } from 'vitest';
import { createClient } from '@celeriac/client';
import { useTestRedis } from '@celeriac/testing';
import { chaosSize, reportChaos, sleep, useChaosScope } from './support/chaos-scope.js';
import { produceJobs } from './support/produce-jobs.js';
import { untilSettled } from './support/until-settled.js';
import { gpuExecutorPids } from '../fixtures/gpu-executor-processes.js';
import { requireGpu } from '../fixtures/skip-without-gpu.js';
import { gpuLedgerTasksModule } from './support/worker-processes.js';
import { createLedgerFleet } from './support/ledger-fleet.js';

const redis = useTestRedis();
const scope = useChaosScope();

const jobs = chaosSize(80, 400);
const crashes = chaosSize(3, 10);
/** Kernel calls per job: the executor is nearly always in a call when it is killed. */
const callsPerJob = 10;

/** Polls `probe` every 25 ms until it answers something other than `undefined`. */
async function until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(25)) {
    const value = probe();
    if (value !== undefined) return value;
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('chaos: GPU executor crash under load', () => {
  it(`reruns the kernel calls of ${crashes} SIGKILLed executors: every GPU job completes, and the worker heals itself`, { timeout: 600_000 }, async (ctx) => {
    const startedAtMs = Date.now();
    const { ledger, fleet } = createLedgerFleet(scope, {
      tasksModule: gpuLedgerTasksModule,
      redisUrl: redis.url,
      prefix: redis.prefix,
      lease: '5s',
      concurrency: 1,
    });
    const worker = await fleet.start();
    // The worker logs "GPU ready" before "worker started" when its executor found an adapter.
    if (!worker.output().includes('GPU ready')) {
      const note = `no WebGPU adapter in the worker's executor:\n${worker.output()}`;
      if (requireGpu) throw new Error(`CELERIAC_REQUIRE_GPU=1 but ${note}`);
      ctx.skip(note);
    }
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const producer = produceJobs(client, ledger, {
      task: 'chaos-gpu-step',
      input: (n) => ({ n, calls: callsPerJob }),
      ratePerSecond: 40,
    });

    const killed: number[] = [];
    // One crash per job: a kernel call reruns at most gpuReruns (2) times, so a slow job hit by three crashes in a row
    // would fail by design (its task's retry policy then decides), which is not what this scenario measures.
    const hitJobs = new Set<string>();
    for (let crash = 0; crash < crashes; crash++) {
      // Wait for a job in its kernel calls, on a live executor, then kill that executor as a driver crash would.
      const [executor, job] = await until(() => {
        const [pid] = gpuExecutorPids(worker.pid);
        const fresh = ledger.read().inFlight(worker.pid, Date.now()).find((id) => !hitJobs.has(id));
        return pid !== undefined && !killed.includes(pid) && fresh !== undefined ? ([pid, fresh] as const) : undefined;
      }, 60_000, 'a GPU job not hit yet, in flight on a fresh executor');
      process.kill(executor, 'SIGKILL');
      killed.push(executor);
      hitJobs.add(job);
      await sleep(500);
    }
    // Produce until every crash happened and at least `jobs` were acknowledged, however fast the GPU is.
    await until(() => (producer.acknowledged >= jobs ? true : undefined), 120_000, `${jobs} acknowledged GPU jobs`);
    producer.stop();
    const produced = await producer.done;
    const settled = await untilSettled(client, ledger, 120_000);
    const { view } = settled;
    const reruns = worker.output().split('\n').filter((line) => line.includes('running it again')).length;
    reportChaos('GPU executor crash', {
      jobs: produced.acknowledged,
      crashes: killed.length,
      kernelReruns: reruns,
      lost: view.lost().length,
      duplicates: view.duplicated().length,
      wallS: Math.round((Date.now() - startedAtMs) / 1000),
    });

    expect(produced.failures).toEqual(new Map());
    expect(produced.acknowledged).toBeGreaterThanOrEqual(jobs);
    expect(view.lost()).toEqual([]);
    expect(settled.settled).toBe(true);
    // No job failed: each crash cost a rerun of the kernel call, on a fresh executor, inside the same attempt.
    expect(settled.counts.failed).toBe(0);
    expect(reruns).toBeGreaterThanOrEqual(1);
    // A crash may at worst cost an attempt (the handler's retry), never more than one per crash.
    expect(view.duplicated().length).toBeLessThanOrEqual(killed.length);
    // The worker healed itself: the same process still serves, on a new executor.
    expect(worker.alive()).toBe(true);
    const [current] = gpuExecutorPids(worker.pid);
    expect(current).toBeDefined();
    expect(killed).not.toContain(current);
    const results = await Promise.all([...ledger.acknowledged.keys()].slice(-5).map((id) => client.job(id).result({ timeoutMs: 10_000 })));
    for (const result of results) expect(result).toMatchObject({ doubled: expect.any(Number) });
  });
});
