/**
 * @celeriac/gpu: WebGPU compute for celeriac workers. PyOpenCL-style kernel builders generate WGSL from expressions,
 * and a GPU executor process owns the device, so a driver fault never takes the worker down.
 *
 * @example
 * ```ts
 * import { createGpuExecutor, elementwise, reduction } from '@celeriac/gpu';
 *
 * const axpby = elementwise({
 *   args: { z: 'out f32[]', a: 'f32', x: 'f32[]', b: 'f32', y: 'f32[]' },
 *   operation: 'z[i] = a * x[i] + b * y[i]',
 * });
 * const dot = reduction({ dtype: 'f32', neutral: '0.0', map: 'x[i] * y[i]', reduce: 'a + b', args: { x: 'f32[]', y: 'f32[]' } });
 *
 * const executor = createGpuExecutor();
 * const x = new Float32Array([1, 2, 3]);
 * const y = new Float32Array([4, 5, 6]);
 * const { z } = await executor.run(axpby, { a: 2, x, b: 3, y }); // Float32Array [14, 19, 24]
 * const xy = await executor.run(dot, { x, y }); // 32
 * await executor.close();
 * ```
 * @packageDocumentation
 */
export { elementwise, type ElementwiseOptions, type ElementwiseKernel } from './kernels/elementwise.js';
export {
  reduction,
  type ReductionOptions,
  type ReductionKernel,
  type ReductionArgDescriptor,
} from './kernels/reduction.js';
export {
  type ArgDescriptor,
  type ScalarDescriptor,
  type ArrayDescriptor,
  type OutputDescriptor,
  type KernelArgs,
  type KernelOutputs,
} from './kernels/arg-descriptor.js';
export { Dtype, dtypes, type TypedArrayFor, type KernelArray } from './kernels/dtype.js';
export {
  KernelKind,
  workgroupSize,
  type KernelSpec,
  type KernelSpecBase,
  type ElementwiseSpec,
  type ReductionSpec,
  type ScalarSlot,
  type ArraySlot,
} from './kernels/kernel-spec.js';
export {
  createGpuExecutor,
  type GpuExecutor,
  type GpuExecutorStats,
} from './executor/create-gpu-executor.js';
export {
  gpuExecutorOptionsSchema,
  resolveGpuExecutorOptions,
  type GpuExecutorOptions,
  type ResolvedGpuExecutorOptions,
} from './executor/gpu-executor-options.js';
