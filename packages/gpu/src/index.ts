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
export { inclusiveScan, exclusiveScan, type ScanOptions, type ScanKernel } from './kernels/scan.js';
export { genericScan, type GenericScanOptions, type GenericScanKernel } from './kernels/generic-scan.js';
export { copyIf, type CopyIfOptions, type CopyIfKernel, type CopyIfResult } from './kernels/copy-if.js';
export { matmul, matmulTile, type MatmulOptions, type MatmulArgs, type MatmulKernel } from './kernels/matmul.js';
export {
  type ArgDescriptor,
  type ScalarDescriptor,
  type ArrayDescriptor,
  type OutputDescriptor,
  type KernelArgs,
  type KernelOutputs,
} from './kernels/arg-descriptor.js';
export { toHalfBits, fromHalfBits } from './kernels/half-bits.js';
export { Dtype, dtypes, type TypedArrayFor, type KernelArray, type DtypeOf } from './kernels/dtype.js';
export {
  KernelKind,
  GridKind,
  ResultKind,
  workgroupSize,
  maxBlocks,
  scanTileSize,
  type KernelSpec,
  type SizeExpr,
  type GridRule,
  type PassSpec,
  type ResultRule,
  type ScalarSlot,
  type ArraySlot,
  type ScratchSlot,
} from './kernels/kernel-spec.js';
export { createGpuExecutor, type GpuExecutor, type GpuExecutorStats } from './executor/create-gpu-executor.js';
export type { GpuRunOptions, KernelRange } from '@celeriac/core';
export type { GpuArray, GpuArrayCallOptions } from './executor/gpu-array.js';
export { testingLoseDeviceEnv, type KernelTiming, type BufferPoolStats } from './internal/gpu-runtime.js';
export { GpuFeature, gpuFeatures } from './kernels/gpu-feature.js';
export {
  gpuExecutorOptionsSchema,
  resolveGpuExecutorOptions,
  type GpuExecutorOptions,
  type ResolvedGpuExecutorOptions,
} from './executor/gpu-executor-options.js';
