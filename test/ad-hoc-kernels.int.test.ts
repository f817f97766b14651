import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, type GpuCapability } from '@celeriac/core';
import { createApiServer } from '@celeriac/api';
import { createWorker, type WorkerOptions } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { add } from './fixtures/test-tasks.js';
import { gpuExecutorPids } from './fixtures/gpu-executor-processes.js';
import { pollUntil } from './fixtures/poll-until.js';
import { base64, fromBase64 } from './fixtures/base64.js';
import { skipWithoutGpu } from './fixtures/skip-without-gpu.js';

const redis = useTestRedis();

async function startWorker(options: Partial<WorkerOptions> = {}): Promise<GpuCapability | undefined> {
  const worker = redis.track(
    createWorker({ tasks: [add], connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }), ...options }),
  );
  await worker.start();
  const [info] = await redis.createBroker().listWorkers();
  return info?.capabilities.gpu;
}

const startApi = async () => redis.track(await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false }));

/** Submits a kernel over HTTP and polls its job until it ends; returns the job as the API shows it. */
async function runOverHttp(app: FastifyInstance, kernel: unknown): Promise<Record<string, unknown>> {
  const submitted = await app.inject({ method: 'POST', url: '/v1/tasks/celeriac.kernel', payload: kernel as object });
  expect(submitted.statusCode, submitted.body).toBe(201);
  const { id } = submitted.json<{ id: string }>();
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const job = (await app.inject(`/v1/jobs/${id}`)).json<Record<string, unknown>>();
    if (['succeeded', 'failed'].includes(job['state'] as string)) return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${id} did not end within 30 s`);
}

describe('ad-hoc kernels over HTTP', () => {
  it('runs an elementwise kernel sent as JSON with base64 arrays, and answers the outputs as base64', { timeout: 60_000 }, async (ctx) => {
    skipWithoutGpu(await startWorker({ adHocKernels: true }), (note) => ctx.skip(note));
    const job = await runOverHttp(await startApi(), {
      kind: 'elementwise',
      args: { a: 'f32', x: 'f32[]', y: 'f32[]', z: 'out f32[]' },
      operation: 'z[i] = a * x[i] + y[i]',
      values: { a: 2, x: base64(Float32Array.of(1, 2, 3)), y: base64(Float32Array.of(10, 20, 30)) },
    });
    expect(job['state']).toBe('succeeded');
    const { outputs } = job['result'] as { outputs: { z: string } };
    expect(Array.from(fromBase64(outputs.z))).toEqual([12, 24, 36]);

    // With a range, only those indices run: PyOpenCL's range=slice(1, 4, 2).
    const ranged = await runOverHttp(await startApi(), {
      kind: 'elementwise',
      args: { x: 'f32[]', z: 'out f32[]' },
      operation: 'z[i] = -x[i]',
      values: { x: base64(Float32Array.of(1, 2, 3, 4, 5)) },
      range: { start: 1, stop: 4, step: 2 },
    });
    expect(ranged['state']).toBe('succeeded');
    expect(Array.from(fromBase64((ranged['result'] as { outputs: { z: string } }).outputs.z))).toEqual([0, -2, 0, -4, 0]);
  });

  it('runs a map/reduce kernel (the ReductionKernel dot product)', { timeout: 60_000 }, async (ctx) => {
    skipWithoutGpu(await startWorker({ adHocKernels: true }), (note) => ctx.skip(note));
    const x = Float32Array.from({ length: 1000 }, (_, i) => i % 7);
    const y = Float32Array.from({ length: 1000 }, (_, i) => i % 5);
    const job = await runOverHttp(await startApi(), {
      kind: 'reduction',
      dtype: 'f32',
      neutral: '0.0',
      map: 'x[i] * y[i]',
      reduce: 'a + b',
      args: { x: 'f32[]', y: 'f32[]' },
      values: { x: base64(x), y: base64(y) },
    });
    expect(job['result']).toEqual({ value: x.reduce((sum, value, i) => sum + value * y[i]!, 0) });
  });

  it('fails a job whose WGSL does not compile with the compiler messages, and keeps serving', { timeout: 60_000 }, async (ctx) => {
    skipWithoutGpu(await startWorker({ adHocKernels: true }), (note) => ctx.skip(note));
    const app = await startApi();
    const broken = await runOverHttp(app, {
      kind: 'elementwise',
      args: { x: 'f32[]', z: 'out f32[]' },
      operation: 'z[i] = x[i] +',
      values: { x: base64(Float32Array.of(1)) },
    });
    expect(broken['state']).toBe('failed');
    expect(broken['error']).toMatchObject({ code: ErrorCode.KernelCompileFailed, details: { messages: expect.any(Array) } });
    const fine = await runOverHttp(app, {
      kind: 'elementwise',
      args: { x: 'f32[]', z: 'out f32[]' },
      operation: 'z[i] = -x[i]',
      values: { x: base64(Float32Array.of(1)) },
    });
    expect(fine['state']).toBe('succeeded');
  });

  it("refuses arrays over the worker's element limit with an error naming the value", { timeout: 60_000 }, async (ctx) => {
    skipWithoutGpu(await startWorker({ adHocKernels: { maxElements: 4 } }), (note) => ctx.skip(note));
    const job = await runOverHttp(await startApi(), {
      kind: 'elementwise',
      args: { x: 'f32[]', z: 'out f32[]' },
      operation: 'z[i] = x[i]',
      values: { x: base64(new Float32Array(5)) },
    });
    expect(job['state']).toBe('failed');
    expect(job['error']).toMatchObject({ code: ErrorCode.InvalidInput });
    expect((job['error'] as { message: string }).message).toContain('input.values.x has 5 elements');
  });

  it('stops a kernel that runs past the time limit by replacing the executor, and keeps serving', { timeout: 60_000 }, async (ctx) => {
    skipWithoutGpu(await startWorker({ adHocKernels: { timeLimit: '1s' } }), (note) => ctx.skip(note));
    const [executor] = gpuExecutorPids();
    const app = await startApi();
    // Billions of dependent steps per element: far past a second on any GPU, and on lavapipe practically endless.
    const endless = await runOverHttp(app, {
      kind: 'elementwise',
      args: { x: 'f32[]', z: 'out f32[]' },
      operation: 'var acc = x[i]; for (var k = 0u; k < 4000000000u; k++) { acc = acc * 0.999999 + 1.0; } z[i] = acc;',
      values: { x: base64(new Float32Array(4096)) },
    });
    expect(endless['state']).toBe('failed');
    expect(endless['error']).toMatchObject({ code: ErrorCode.TimeLimitExceeded });
    // The job's failure and the executor's kill happen together; the process may take a moment to go.
    await pollUntil(() => (gpuExecutorPids().includes(executor!) ? undefined : true));
    const next = await runOverHttp(app, {
      kind: 'reduction',
      dtype: 'f32',
      neutral: '0.0',
      map: 'x[i]',
      reduce: 'a + b',
      args: { x: 'f32[]' },
      values: { x: base64(Float32Array.of(1, 2, 3)) },
    });
    expect(next['result']).toEqual({ value: 6 });
  });

  it('is off by default: a worker without adHocKernels does not publish the task', async () => {
    await startWorker();
    const app = await startApi();
    const response = await app.inject({ method: 'POST', url: '/v1/tasks/celeriac.kernel', payload: {} });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: ErrorCode.TaskNotFound } });
  });
});
