import { z } from 'zod';
import { defineTask, f32Array } from '@celeriac/core';
import { elementwise } from '@celeriac/gpu';
import { sameLength } from './same-length.js';

/**
 * The PyOpenCL demo, `c = a + b`: `ElementwiseKernel(ctx, "float *a, float *b, float *c", "c[i] = a[i] + b[i]")`.
 */
export const vectorAddKernel = elementwise({
  name: 'vector_add',
  args: { a: 'f32[]', b: 'f32[]', c: 'out f32[]' },
  operation: 'c[i] = a[i] + b[i]',
});

/** Adds two vectors on the worker's GPU. The vectors travel as binary payloads, over HTTP as base64. */
export const vectorAdd = defineTask({
  name: 'vector-add',
  description: 'c = a + b on the GPU (the PyOpenCL demo), with binary Float32Array payloads.',
  input: z.object({ a: f32Array(), b: f32Array() }).refine(...sameLength('a', 'b')),
  output: f32Array(),
  resources: { gpu: 1 },
  handler: async ({ a, b }, ctx) => (await ctx.gpu.run(vectorAddKernel, { a, b })).c,
});
