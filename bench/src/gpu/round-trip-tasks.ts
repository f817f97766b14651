import { z } from 'zod';
import { defineTask, f32Array } from '@celeriac/core';
import { elementwise } from '@celeriac/gpu';

/** The queue both round-trip tasks share, so the GPU and CPU figures differ by the handler alone. */
export const roundTripQueue = 'bench-gpu-round-trip';

const doubleKernel = elementwise({
  name: 'bench_double',
  args: { x: 'f32[]', z: 'out f32[]' },
  operation: 'z[i] = 2.0 * x[i]',
});

/**
 * Doubles a small Float32Array on the worker's GPU: the least a GPU task can do, so its round trip is the queue's
 * and the executor's overhead. After the first job the kernel's pipeline is cached in the executor process.
 */
export const doubleOnGpu = defineTask({
  name: 'bench-double-on-gpu',
  queue: roundTripQueue,
  input: z.object({ x: f32Array() }),
  output: f32Array(),
  isolation: 'inline',
  resources: { gpu: 1 },
  handler: async ({ x }, ctx) => (await ctx.gpu.run(doubleKernel, { x })).z,
});

/** The same work in JavaScript, through the same queue, payload path and worker: the baseline of the GPU task. */
export const doubleOnCpu = defineTask({
  name: 'bench-double-on-cpu',
  queue: roundTripQueue,
  input: z.object({ x: f32Array() }),
  output: f32Array(),
  isolation: 'inline',
  handler: ({ x }) => x.map((value) => 2 * value),
});
