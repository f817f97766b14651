import { z } from 'zod';
import { defineTask } from '@celeriac/core';
import { reduction } from '@celeriac/gpu';
import { sameLengthXY, vector } from './vectors.js';

/**
 * PyOpenCL's ReductionKernel recipe for the dot product:
 * `ReductionKernel(dtype, neutral="0", reduce_expr="a+b", map_expr="x[i]*y[i]", arguments="float *x, float *y")`.
 */
export const dotProductKernel = reduction({
  name: 'dot_product',
  dtype: 'f32',
  neutral: '0.0',
  map: 'x[i] * y[i]',
  reduce: 'a + b',
  args: { x: 'f32[]', y: 'f32[]' },
});

/** The dot product of two vectors, on the worker's GPU. */
export const dotProduct = defineTask({
  name: 'dot-product',
  description: 'x · y on the GPU (PyOpenCL ReductionKernel).',
  input: z.object({ x: vector, y: vector }).refine(...sameLengthXY),
  output: z.object({ dot: z.number(), n: z.number().int() }),
  resources: { gpu: 1 },
  handler: async ({ x, y }, ctx) => ({
    dot: await ctx.gpu.run(dotProductKernel, { x: Float32Array.from(x), y: Float32Array.from(y) }),
    n: x.length,
  }),
});
