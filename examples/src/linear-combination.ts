import { z } from 'zod';
import { defineTask } from '@celeriac/core';
import { elementwise } from '@celeriac/gpu';
import { sameLengthXY, vector } from './vectors.js';

/**
 * PyCUDA's ElementwiseKernel recipe, `z[i] = a*x[i] + b*y[i]`:
 * `ElementwiseKernel("float a, float *x, float b, float *y, float *z", "z[i] = a*x[i] + b*y[i]")`.
 */
export const linearCombinationKernel = elementwise({
  name: 'linear_combination',
  args: { z: 'out f32[]', a: 'f32', x: 'f32[]', b: 'f32', y: 'f32[]' },
  operation: 'z[i] = a * x[i] + b * y[i]',
});

/** Computes `a*x + b*y` on the worker's GPU. */
export const linearCombination = defineTask({
  name: 'linear-combination',
  description: 'z = a*x + b*y on the GPU (PyCUDA ElementwiseKernel).',
  input: z.object({ a: z.number(), x: vector, b: z.number(), y: vector }).refine(...sameLengthXY),
  output: z.object({ z: z.array(z.number()) }),
  resources: { gpu: 1 },
  handler: async ({ a, x, b, y }, ctx) => {
    const result = await ctx.gpu.run(linearCombinationKernel, {
      a,
      x: Float32Array.from(x),
      b,
      y: Float32Array.from(y),
    });
    return { z: Array.from(result.z) };
  },
});
