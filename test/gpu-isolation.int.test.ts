import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import { ErrorCode, JobState, defineTask, isCeleriacError, type GpuCapability, type TaskDefinition } from '@celeriac/core';
import { elementwise, testingLoseDeviceEnv } from '@celeriac/gpu';
import { createClient } from '@celeriac/client';
import { createWorker, loadTaskModule, type WorkerOptions } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { add } from './fixtures/test-tasks.js';
import { gpuExecutorPids, killGpuExecutors } from './fixtures/gpu-executor-processes.js';
import { pollUntil } from './fixtures/poll-until.js';
import { skipWithoutGpu } from './fixtures/skip-without-gpu.js';

const redis = useTestRedis();

const double = elementwise({ name: 'double', args: { x: 'f32[]', z: 'out f32[]' }, operation: 'z[i] = 2.0 * x[i]' });

/** Set by a test to act on the executor while a job's kernel call is in flight (the handler runs in this process). */
let duringKernel: (() => void) | undefined;

/** Doubles a vector on the GPU, calling the test's hook once the kernel call is on its way to the executor. */
const doubleOnGpu = defineTask({
  name: 'double-on-gpu',
  input: z.object({ x: z.array(z.number()) }),
  output: z.array(z.number()),
  isolation: 'inline',
  resources: { gpu: 1 },
  handler: async ({ x }, ctx) => {
    const run = ctx.gpu.run(double, { x: Float32Array.from(x) });
    duringKernel?.();
    return Array.from((await run).z);
  },
});

/** Keeps the GPU busy with kernel calls, one after another, for `ms`; returns how many it made. */
const busyOnGpu = defineTask({
  name: 'busy-on-gpu',
  input: z.object({ ms: z.number() }),
  output: z.number(),
  isolation: 'inline',
  resources: { gpu: 1 },
  handler: async ({ ms }, ctx) => {
    const x = new Float32Array(1 << 16).fill(1);
    let calls = 0;
    for (const end = Date.now() + ms; Date.now() < end; calls++) await ctx.gpu.run(double, { x });
    return calls;
  },
});

async function startWorker(tasks: readonly TaskDefinition[], options: Partial<WorkerOptions> = {}) {
  const worker = redis.track(
    createWorker({ tasks, connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }), ...options }),
  );
  await worker.start();
  const [info] = await redis.createBroker().listWorkers();
  return info?.capabilities.gpu as GpuCapability;
}

const client = () => redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));

afterEach(() => {
  duringKernel = undefined;
});

describe('GPU isolation in a worker', () => {
  it('reruns a kernel whose executor was killed mid-call on a fresh executor, and the job succeeds', { timeout: 60_000 }, async (ctx) => {
    const gpu = await startWorker([doubleOnGpu], { heartbeatInterval: '100ms' });
    skipWithoutGpu(gpu, (note) => ctx.skip(note));
    const [first] = gpuExecutorPids();
    duringKernel = () => {
      duringKernel = undefined;
      expect(killGpuExecutors()).toBe(1);
    };
    const job = await client().enqueue(doubleOnGpu, { x: [1, 2, 3] });
    expect(await job.result({ timeoutMs: 30_000 })).toEqual([2, 4, 6]);
    const record = await job.record();
    // One attempt: the rerun was of the kernel call, inside it, on an executor that replaced the killed one.
    expect(record.attempts.made).toBe(1);
    expect(gpuExecutorPids()).toHaveLength(1);
    expect(gpuExecutorPids()).not.toContain(first);
    // The heartbeat tells operators: a second executor process, and the kernel's GPU time where it is measured.
    // A beat taken while the rerun was in flight shows the new process with nothing finished: wait for a later one.
    const timed = gpu.available && gpu.features.includes('timestamp-query');
    const activity = await pollUntil(async () => {
      const gpuActivity = (await redis.createBroker().listWorkers())[0]?.gpuActivity;
      const settled = gpuActivity?.executorStarts === 2 && (!timed || gpuActivity.kernelTimings['double'] !== undefined);
      return settled ? gpuActivity : undefined;
    });
    expect(activity.runs).toBeGreaterThanOrEqual(1);
    expect(activity.devicesAcquired).toBe(1);
    if (timed) expect(activity.kernelTimings['double']?.lastNs).toBeGreaterThan(0);
  });

  it('reruns a kernel whose device was lost on a new device, in the same executor, and the job succeeds', { timeout: 60_000 }, async (ctx) => {
    // The executor's testing hook destroys its device during the first run of `double`, as a driver reset would.
    const gpu = await startWorker([doubleOnGpu], { gpuEnv: { [testingLoseDeviceEnv]: double.spec.name } });
    skipWithoutGpu(gpu, (note) => ctx.skip(note));
    const [executor] = gpuExecutorPids();
    const job = await client().enqueue(doubleOnGpu, { x: [5, 6] });
    expect(await job.result({ timeoutMs: 30_000 })).toEqual([10, 12]);
    expect((await job.record()).attempts.made).toBe(1);
    // A lost device is replaced inside the executor: its process lives on.
    expect(gpuExecutorPids()).toEqual([executor]);
  });

  it('fails the attempt with the retryable executor error when every rerun crashes, and keeps serving', { timeout: 60_000 }, async (ctx) => {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    skipWithoutGpu(await startWorker([doubleOnGpu, add], { gpuReruns: 2, logger }), (note) => ctx.skip(note));
    // Kill every executor as soon as it appears: the call and both reruns crash.
    const killer = setInterval(killGpuExecutors, 5);
    duringKernel = () => killGpuExecutors();
    const job = await client().enqueue(doubleOnGpu, { x: [1] });
    const error = await job.result({ timeoutMs: 30_000 }).catch((caught: unknown) => caught);
    clearInterval(killer);
    expect(isCeleriacError(error, ErrorCode.JobFailed)).toBe(true);
    const record = await job.record();
    expect(record.state).toBe(JobState.Failed);
    expect(record.error).toMatchObject({ code: ErrorCode.GpuExecutorCrashed, retryable: true });
    // Bounded: the call and exactly two reruns, each logged.
    expect(warnings.filter((line) => line.includes('running it again'))).toHaveLength(2);
    // The worker is still up: it runs a CPU job, and a GPU job on a fresh executor.
    duringKernel = undefined;
    expect(await (await client().enqueue(add, { x: 2, y: 3 })).result({ timeoutMs: 10_000 })).toBe(5);
    expect(await (await client().enqueue(doubleOnGpu, { x: [4] })).result({ timeoutMs: 30_000 })).toEqual([8]);
  });

  it("stops a sandboxed job's kernel at the hard time limit by replacing the executor, and keeps serving", { timeout: 60_000 }, async (ctx) => {
    const tasksModule = new URL('./fixtures/gpu-sandbox-tasks.js', import.meta.url);
    const gpu = await startWorker(await loadTaskModule(tasksModule), { tasksModule, sandboxThreads: 1 });
    skipWithoutGpu(gpu, (note) => ctx.skip(note));
    const [executor] = gpuExecutorPids();
    const endless = await client().enqueueByName('sandboxed-kernel', { endless: true, x: new Array(4096).fill(1) });
    const error = await endless.result({ timeoutMs: 30_000 }).catch((caught: unknown) => caught);
    expect(isCeleriacError(error, ErrorCode.JobFailed)).toBe(true);
    expect((await endless.record()).error).toMatchObject({ code: ErrorCode.TimeLimitExceeded });
    // The job's failure and the executor's kill happen together; the process may take a moment to go.
    await pollUntil(() => (gpuExecutorPids().includes(executor!) ? undefined : true));
    const next = await client().enqueueByName('sandboxed-kernel', { endless: false, x: [1, 2] });
    expect(await next.result({ timeoutMs: 30_000 })).toEqual([-1, -2]);
    // A call's range crosses from the thread to the executor with the call.
    const stepped = await client().enqueueByName('sandboxed-kernel', { endless: false, x: [1, 2, 3, 4], step: 2 });
    expect(await stepped.result({ timeoutMs: 30_000 })).toEqual([-1, 0, -3, 0]);
  });

  it('keeps the lease of a job that uses the GPU for several lease periods: it runs once, never stalls', { timeout: 60_000 }, async (ctx) => {
    skipWithoutGpu(await startWorker([busyOnGpu], { lease: '500ms' }), (note) => ctx.skip(note));
    const job = await client().enqueue(busyOnGpu, { ms: 2_000 });
    expect(await job.result({ timeoutMs: 30_000 })).toBeGreaterThan(0);
    const record = await job.record();
    expect(record.attempts.made).toBe(1);
    expect(record.history ?? []).toEqual([]);
  });
});
