/**
 * @celeriac/examples: the seed recipes as celeriac tasks. `celeriac dev` runs these when no `--tasks` is given.
 *
 * @example
 * ```ts
 * import { createClient } from '@celeriac/client';
 * import { add, dotProduct } from '@celeriac/examples';
 *
 * const client = createClient();
 * console.log(await (await client.enqueue(add, { x: 2, y: 3 })).result()); // 5
 * const [x, y] = [Float32Array.of(1, 2, 3), Float32Array.of(4, 5, 6)];
 * console.log(await (await client.enqueue(dotProduct, { x, y })).result()); // { dot: 32, n: 3 }
 * console.log(await (await client.workflow(scatterGatherDot(x, y, 8))).result()); // { dot, n, parts: 8 }
 * ```
 * @packageDocumentation
 */
import { add } from './add.js';
import { dotProduct, dotProductKernel } from './dot-product.js';
import { linearCombination, linearCombinationKernel } from './linear-combination.js';
import { scatterGatherDot, sumPartials } from './scatter-gather.js';
import { vectorAdd, vectorAddKernel } from './vector-add.js';
import { matrixMultiply, matrixMultiplyKernel } from './matrix-multiply.js';

export {
  add,
  dotProduct,
  dotProductKernel,
  linearCombination,
  linearCombinationKernel,
  scatterGatherDot,
  sumPartials,
  vectorAdd,
  vectorAddKernel,
  matrixMultiply,
  matrixMultiplyKernel,
};

/** Every example task, for `createWorker({ tasks: exampleTasks })`. */
export const exampleTasks = [add, linearCombination, dotProduct, sumPartials, vectorAdd, matrixMultiply] as const;
