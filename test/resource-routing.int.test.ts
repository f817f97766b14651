import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { JobState, type GpuCapability, type JobRecord } from '@celeriac/core';
import { createClient, type JobHandle } from '@celeriac/client';
import { createApiServer } from '@celeriac/api';
import { createGpuExecutor } from '@celeriac/gpu';
import { createWorker, type WorkerOptions } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { add } from './fixtures/test-tasks.js';
import { gate, gpuScale, needsMissingFeature, quarterGpu, wholeGpu } from './fixtures/gpu-routing-tasks.js';
import { requireGpu } from './fixtures/skip-without-gpu.js';

const redis = useTestRedis();
/** Hides every Vulkan driver from the GPU executor process, so the worker starts without an adapter. */
const noDriver = { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };

// Asked once, at collection, so the GPU cases can be skipped (or failed, with CELERIAC_REQUIRE_GPU=1) up front.
const probe = createGpuExecutor();
afterAll(() => probe.close());
const capability: GpuCapability = await probe.describe();

/** `describe` for cases that need a WebGPU adapter: skipped without one, failed instead with CELERIAC_REQUIRE_GPU=1. */
function describeGpu(name: string, body: () => void): void {
  if (capability.available) describe(name, body);
  else if (requireGpu) {
    describe(name, () => {
      it('has a WebGPU adapter (CELERIAC_REQUIRE_GPU=1)', () => {
        throw new Error(`CELERIAC_REQUIRE_GPU=1, but the executor found no WebGPU adapter: ${capability.reason}`);
      });
    });
  } else describe.skip(`${name} (no WebGPU adapter: ${capability.reason})`, body);
}

/** Starts a worker on this test's prefix; `lines` collects what it logs at warn and above. */
async function startWorker(options: Partial<WorkerOptions> & Pick<WorkerOptions, 'tasks'>, lines: string[] = []) {
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const worker = redis.track(createWorker({ connection: redis.url, prefix: redis.prefix, logger, ...options }));
  await worker.start();
  return worker;
}

const client = () => redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));

/** The largest number of jobs that ran at once, from the start and end order the handlers recorded. */
function maxOverlap(runs: readonly { startedAt: number; endedAt: number }[]): number {
  const events = runs.flatMap((run) => [{ at: run.startedAt, delta: 1 }, { at: run.endedAt, delta: -1 }]);
  let running = 0;
  let most = 0;
  for (const { delta } of events.sort((a, b) => a.at - b.at)) most = Math.max(most, (running += delta));
  return most;
}

/** Resolves once `count` jobs have reached the gate. */
function whenStarted(count: number): Promise<void> {
  return new Promise((resolve) => {
    gate.onStart = () => {
      if (gate.running >= count) resolve();
    };
  });
}

const states = (jobs: readonly JobHandle<unknown>[]) => Promise.all(jobs.map((job) => job.state()));

describeGpu('resource-aware routing', () => {
  it('keeps a GPU job queued while only an incapable worker runs, says why over HTTP, and runs it once a capable worker starts', { timeout: 60_000 }, async () => {
    const warnings: string[] = [];
    await startWorker({ tasks: [add, gpuScale], gpuEnv: noDriver }, warnings);
    const sdk = client();
    const gpuJob = await sdk.enqueue(gpuScale, { a: 2, x: [1, 2, 3] });
    // The worker is up and consuming: a CPU job enqueued after the GPU job runs, and the GPU job is still queued.
    expect(await (await sdk.enqueue(add, { x: 1, y: 1 })).result({ timeoutMs: 10_000 })).toBe(2);
    expect(await gpuJob.state()).toBe(JobState.Queued);

    const [info] = await redis.createBroker().listWorkers();
    expect(info?.queues).toEqual(['default']);
    expect(info?.capabilities.gpu?.available).toBe(false);
    const warning = warnings.map((line) => JSON.parse(line) as { msg: string; task?: string }).find((line) => line.task === 'gpu-scale');
    expect(warning?.msg).toMatch(/task "gpu-scale" cannot run on this worker: .*does not consume queue "gpu"/);

    const app = await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false });
    redis.track({ close: () => app.close() });
    const waiting = await app.inject({ method: 'GET', url: `/v1/jobs/${gpuJob.id}` });
    expect(waiting.statusCode).toBe(200);
    expect(waiting.json()).toMatchObject({
      state: 'queued',
      queue: 'gpu',
      waitingFor: { reason: 'no-capable-worker', requires: { gpu: 1, features: [], adapterType: 'any' }, queue: 'gpu' },
    });

    await startWorker({ tasks: [gpuScale] });
    expect(await gpuJob.result({ timeoutMs: 30_000 })).toEqual([2, 4, 6]);
    const done = (await app.inject({ method: 'GET', url: `/v1/jobs/${gpuJob.id}` })).json<JobRecord & { waitingFor?: unknown }>();
    expect(done.state).toBe('succeeded');
    expect(done.waitingFor).toBeUndefined();
  });

  it('leaves alone only the queue of a task whose feature its adapter lacks, and serves its other GPU task', { timeout: 60_000 }, async () => {
    const warnings: string[] = [];
    await startWorker({ tasks: [gpuScale, needsMissingFeature] }, warnings);
    const sdk = client();
    const waitingJob = await sdk.enqueue(needsMissingFeature, {});
    expect(await (await sdk.enqueue(gpuScale, { a: 3, x: [1] })).result({ timeoutMs: 30_000 })).toEqual([3]);
    expect(await waitingJob.state()).toBe(JobState.Queued);
    expect(warnings.join('\n')).toContain('needs WebGPU feature(s) celeriac-test-missing-feature');

    const app = await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false });
    redis.track({ close: () => app.close() });
    expect((await app.inject({ method: 'GET', url: `/v1/jobs/${waitingJob.id}` })).json()).toMatchObject({
      state: 'queued',
      waitingFor: {
        reason: 'no-capable-worker',
        requires: { gpu: 0.5, features: ['celeriac-test-missing-feature'], adapterType: 'any' },
        queue: 'gpu.0.5.celeriac-test-missing-feature',
      },
    });
  });

  it('runs four quarter-GPU jobs at once on a one-GPU worker, and fetches no more than that', { timeout: 60_000 }, async () => {
    gate.reset();
    await startWorker({ tasks: [quarterGpu, wholeGpu], concurrency: 8 });
    const fourRunning = whenStarted(4);
    const sdk = client();
    const jobs = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => sdk.enqueue(quarterGpu, { n })));
    await fourRunning;

    // Four hold the GPU; the other two were not even fetched, so they stay queued where any worker can take them.
    const during = await states(jobs);
    expect(during.filter((state) => state === JobState.Active)).toHaveLength(4);
    expect(during.filter((state) => state === JobState.Queued)).toHaveLength(2);
    gate.release();
    const runs = await Promise.all(jobs.map((job) => job.result({ timeoutMs: 30_000 })));
    expect(maxOverlap(runs)).toBe(4);
    expect(gate.maxRunning).toBe(4);
  });

  it('runs whole-GPU jobs one at a time', { timeout: 60_000 }, async () => {
    gate.reset();
    await startWorker({ tasks: [quarterGpu, wholeGpu], concurrency: 8 });
    const oneRunning = whenStarted(1);
    const sdk = client();
    const jobs = await Promise.all([1, 2].map((n) => sdk.enqueue(wholeGpu, { n })));
    await oneRunning;

    expect((await states(jobs)).sort()).toEqual([JobState.Active, JobState.Queued]);
    gate.release();
    const [first, second] = (await Promise.all(jobs.map((job) => job.result({ timeoutMs: 30_000 })))).sort(
      (a, b) => a.startedAt - b.startedAt,
    );
    expect(second!.startedAt).toBeGreaterThan(first!.endedAt);
    expect(gate.maxRunning).toBe(1);
  });
});
