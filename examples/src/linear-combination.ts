import { z } from 'zod';
import { defineTask, f32Array } from '@celeriac/core';
import { elementwise } from '@celeriac/gpu';
import { sameLength } from './same-length.js';

/**
 * PyCUDA's ElementwiseKernel recipe, `z[i] = a*x[i] + b*y[i]`:
 * `ElementwiseKernel("float a, float *x, float b, float *y, float *z", "z[i] = a*x[i] + b*y[i]")`.
 */
export const linearCombinationKernel = elementwise({
  name: 'linear_combination',
  args: { z: 'out f32[]', a: 'f32', x: 'f32[]', b: 'f32', y: 'f32[]' },
  operation: 'z[i] = a * x[i] + b * y[i]',
});

/** Computes `a*x + b*y` on the worker's GPU. The vectors travel as binary payloads. */
export const linearCombination = defineTask({
  name: 'linear-combination',
  description: 'z = a*x + b*y on the GPU (PyCUDA ElementwiseKernel).',
  input: z.object({ a: z.number(), x: f32Array(), b: z.number(), y: f32Array() }).refine(...sameLength('x', 'y')),
  output: z.object({ z: f32Array() }),
  resources: { gpu: 1 },
  handler: ({ a, x, b, y }, ctx) => ctx.gpu.run(linearCombinationKernel, { a, x, b, y }),
});
