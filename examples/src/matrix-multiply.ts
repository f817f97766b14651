import { z } from 'zod';
import { defineTask, f32Array } from '@celeriac/core';
import { matmul } from '@celeriac/gpu';

/**
 * The shared-memory matrix multiply of the CUDA guide and the PyCUDA cookbook: each workgroup computes a 16×16 tile
 * of the product from tiles of `a` and `b` staged in workgroup (shared) memory.
 */
export const matrixMultiplyKernel = matmul({ name: 'matrix_multiply', dtype: 'f32' });

const size = z.number().int().min(1).max(16_384);

/** `c = a · b` for row-major matrices (`a` is rows × inner, `b` inner × cols), on the worker's GPU. */
export const matrixMultiply = defineTask({
  name: 'matrix-multiply',
  description: 'c = a · b on the GPU, tiled in workgroup memory (the PyCUDA shared-memory recipe).',
  input: z
    .object({ a: f32Array(), b: f32Array(), rows: size, inner: size, cols: size })
    .refine((m) => m.a.length === m.rows * m.inner, { message: 'a must hold rows * inner elements', path: ['a'] })
    .refine((m) => m.b.length === m.inner * m.cols, { message: 'b must hold inner * cols elements', path: ['b'] }),
  output: f32Array(),
  resources: { gpu: 1 },
  handler: async ({ a, b, rows, inner, cols }, ctx) => ctx.gpu.run(matrixMultiplyKernel, { a, b, rows, inner, cols }),
});
