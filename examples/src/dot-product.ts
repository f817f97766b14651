import { z } from 'zod';
import { defineTask, f32Array } from '@celeriac/core';
import { reduction } from '@celeriac/gpu';
import { sameLength } from './same-length.js';

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

/** The dot product of two vectors, on the worker's GPU. The vectors travel as binary payloads. */
export const dotProduct = defineTask({
  name: 'dot-product',
  description: 'x · y on the GPU (PyOpenCL ReductionKernel).',
  input: z.object({ x: f32Array(), y: f32Array() }).refine(...sameLength('x', 'y')),
  output: z.object({ dot: z.number(), n: z.number().int() }),
  resources: { gpu: 1 },
  handler: async ({ x, y }, ctx) => ({ dot: await ctx.gpu.run(dotProductKernel, { x, y }), n: x.length }),
});
