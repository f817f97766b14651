import { z } from 'zod';
import { chord, defineTask, sig, type Canvas } from '@celeriac/core';
import { dotProduct } from './dot-product.js';

/** Partial dot products, each `{ dot, n }`, added up: the chord's callback. Sums in float64, in chunk order. */
export const sumPartials = defineTask({
  name: 'sum-partials',
  description: 'Adds up partial dot products (the gather step of a scatter/gather dot product).',
  input: z.array(z.object({ dot: z.number(), n: z.number().int() })).min(1),
  output: z.object({ dot: z.number(), n: z.number().int(), parts: z.number().int() }),
  isolation: 'inline',
  handler: (partials) => ({
    dot: partials.reduce((sum, part) => sum + part.dot, 0),
    n: partials.reduce((sum, part) => sum + part.n, 0),
    parts: partials.length,
  }),
});

/**
 * MPI's scatter/gather as a workflow: splits `x · y` into `parts` slices, runs the GPU reduction of each slice as its
 * own job (on whichever GPU workers are free), and adds the partial results in a chord callback.
 *
 * @example
 * ```ts
 * const workflow = await client.workflow(scatterGatherDot(x, y, 8));
 * const { dot } = await workflow.result();
 * ```
 */
export function scatterGatherDot(
  x: Float32Array,
  y: Float32Array,
  parts: number,
): Canvas<z.output<typeof sumPartials.output>> {
  const size = Math.ceil(x.length / parts);
  const slices = Array.from({ length: Math.ceil(x.length / size) }, (_, index) => {
    const start = index * size;
    // subarray, not slice: each slice's bytes are copied once, into its job's payload.
    return sig(dotProduct, { x: x.subarray(start, start + size), y: y.subarray(start, start + size) });
  });
  return chord(slices, sumPartials);
}
