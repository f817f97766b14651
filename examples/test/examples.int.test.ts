import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { JobState, type GpuCapability } from '@celeriac/core';
import { createClient } from '@celeriac/client';
import { createWorker, type WorkerOptions } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { add, dotProduct, exampleTasks, linearCombination, matrixMultiply, scatterGatherDot, vectorAdd } from '@celeriac/examples';

const redis = useTestRedis();
const requireGpu = process.env['CELERIAC_REQUIRE_GPU'] === '1';

async function startWorker(options: Partial<WorkerOptions> = {}) {
  const worker = redis.track(
    createWorker({ tasks: exampleTasks, connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }), ...options }),
  );
  await worker.start();
  const [info] = await redis.createBroker().listWorkers();
  return { worker, gpu: info?.capabilities.gpu as GpuCapability };
}

/** Skips a GPU case when this machine has no adapter, unless CELERIAC_REQUIRE_GPU=1 makes that a failure. */
function skipWithoutGpu(gpu: GpuCapability, skip: (note: string) => void): void {
  if (gpu.available) return;
  if (requireGpu) throw new Error(`CELERIAC_REQUIRE_GPU=1 but the worker has no GPU: ${gpu.reason}`);
  skip(`no WebGPU adapter: ${gpu.reason}`);
}

/** A vector of n values in [-1, 1) that is cheap to build and not symmetric. */
const ramp = (n: number, phase: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase));

describe('the examples, through client, Redis, worker and GPU executor', () => {
  it("runs Celery's add", async () => {
    await startWorker();
    const job = await redis.track(createClient({ connection: redis.url, prefix: redis.prefix })).enqueue(add, { x: 2, y: 3 });
    expect(await job.result({ timeoutMs: 10_000 })).toBe(5);
  });

  it('runs the PyCUDA linear combination, matching the JS reference', { timeout: 60_000 }, async (ctx) => {
    const { gpu } = await startWorker();
    skipWithoutGpu(gpu, (note) => ctx.skip(note));
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    for (const n of [1, 255, 256, 257, 65_537]) {
      const x = ramp(n, 0);
      const y = ramp(n, 1);
      const { z } = await (await client.enqueue(linearCombination, { a: 2.5, x, b: -0.5, y })).result({ timeoutMs: 30_000 });
      expect(z).toBeInstanceOf(Float32Array);
      expect(z).toHaveLength(n);
      // f32 arithmetic on both sides; a fused multiply-add on the GPU may differ from JS in the last bit, so the
      // tolerance is a few f32 ulps of the operands' magnitude (≤ 3), not exact equality.
      const worst = Math.max(
        ...Array.from(z, (value, i) => Math.abs(value - Math.fround(Math.fround(2.5 * x[i]!) + Math.fround(-0.5 * y[i]!)))),
      );
      expect(worst).toBeLessThanOrEqual(3 * 2 ** -23 * 4);
    }
  });

  it('runs the ReductionKernel dot product at 2^20 elements, matching the JS reference', { timeout: 60_000 }, async (ctx) => {
    const { gpu } = await startWorker();
    skipWithoutGpu(gpu, (note) => ctx.skip(note));
    const n = 1 << 20;
    const x = ramp(n, 0);
    const y = ramp(n, 2);
    let reference = 0;
    let magnitude = 0;
    for (let i = 0; i < n; i++) {
      const product = x[i]! * y[i]!;
      reference += product;
      magnitude += Math.abs(product);
    }
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const { dot, n: length } = await (await client.enqueue(dotProduct, { x, y })).result({ timeoutMs: 60_000 });
    expect(length).toBe(n);
    // An f32 tree reduction's error is bounded by about log2(n)·2^-24 per unit of Σ|x·y|; allow 4× that.
    expect(Math.abs(dot - reference)).toBeLessThanOrEqual(4 * 20 * 2 ** -24 * magnitude);
  });

  it('runs the scatter/gather dot product as a chord of GPU reductions, matching the JS reference', { timeout: 60_000 }, async (ctx) => {
    const { gpu } = await startWorker({ concurrency: 4 });
    skipWithoutGpu(gpu, (note) => ctx.skip(note));
    const n = 100_003; // not a multiple of the parts: the last slice is shorter
    const x = ramp(n, 0);
    const y = ramp(n, 3);
    let reference = 0;
    let magnitude = 0;
    for (let i = 0; i < n; i++) {
      const product = x[i]! * y[i]!;
      reference += product;
      magnitude += Math.abs(product);
    }
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const workflow = await client.workflow(scatterGatherDot(x, y, 8));
    const result = await workflow.result({ timeoutMs: 60_000 });
    expect(result).toMatchObject({ n, parts: 8 });
    // Each slice is an f32 tree reduction (error ≤ log2(n)·2^-24 per unit of Σ|x·y|); the sum of slices is float64.
    expect(Math.abs(result.dot - reference)).toBeLessThanOrEqual(4 * 17 * 2 ** -24 * magnitude);
    const view = await client.getWorkflow(workflow.id);
    expect(view.tree.children?.map((child) => child.state)).toEqual(Array.from({ length: 8 }, () => 'succeeded'));
  });

  it('runs the PyOpenCL vector add on binary payloads, exactly, from 1 to 2^22 elements', { timeout: 120_000 }, async (ctx) => {
    const { gpu } = await startWorker();
    skipWithoutGpu(gpu, (note) => ctx.skip(note));
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    for (const n of [1, 255, 256, 257, 1 << 22]) {
      const a = ramp(n, 0);
      const b = ramp(n, 1);
      const c = await (await client.enqueue(vectorAdd, { a, b })).result({ timeoutMs: 60_000 });
      expect(c).toBeInstanceOf(Float32Array);
      expect(c).toHaveLength(n);
      // One f32 addition per element, rounded the same way on both sides: equal bit for bit.
      const mismatch = c.findIndex((value, i) => value !== Math.fround(a[i]! + b[i]!));
      expect(mismatch).toBe(-1);
    }
  });

  it('runs the shared-memory matrix multiply, matching the JS reference, for sizes off the 16×16 tile', { timeout: 120_000 }, async (ctx) => {
    const { gpu } = await startWorker();
    skipWithoutGpu(gpu, (note) => ctx.skip(note));
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    for (const [rows, inner, cols] of [[1, 1, 1], [33, 17, 65], [256, 256, 256]] as const) {
      const a = ramp(rows * inner, 0);
      const b = ramp(inner * cols, 1);
      const c = await (await client.enqueue(matrixMultiply, { a, b, rows, inner, cols })).result({ timeoutMs: 60_000 });
      expect(c).toHaveLength(rows * cols);
      let worst = 0;
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < cols; k++) {
          let sum = 0;
          let magnitude = 0;
          for (let j = 0; j < inner; j++) {
            sum += a[r * inner + j]! * b[j * cols + k]!;
            magnitude += Math.abs(a[r * inner + j]! * b[j * cols + k]!);
          }
          // f32 accumulation over `inner` terms: error ≤ inner·2^-24 per unit of Σ|a·b|.
          worst = Math.max(worst, Math.abs(c[r * cols + k]! - sum) / Math.max(magnitude * inner * 2 ** -24, 2 ** -24));
        }
      }
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  it('leaves GPU jobs queued for a capable worker when no adapter is found, and keeps serving CPU tasks', { timeout: 60_000 }, async () => {
    const { gpu } = await startWorker({ gpuEnv: { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' } });
    expect(gpu.available).toBe(false);
    expect(gpu.available ? '' : gpu.reason).toContain('mesa-vulkan-drivers');
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const gpuJob = await client.enqueue(dotProduct, { x: Float32Array.of(1, 2), y: Float32Array.of(3, 4) });
    // The worker does not consume the GPU task's queue, so the job waits there; a CPU job enqueued after it runs.
    expect(await (await client.enqueue(add, { x: 1, y: 1 })).result({ timeoutMs: 10_000 })).toBe(2);
    expect(await gpuJob.state()).toBe(JobState.Queued);
    await gpuJob.cancel();
  });
});
