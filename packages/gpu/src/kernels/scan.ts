import type { GpuKernel } from '@celeriac/core';
import type { KernelArgs } from './arg-descriptor.js';
import type { Dtype, TypedArrayFor } from './dtype.js';
import { dtypeScratch } from './kernel-layout.js';
import { KernelKind, ResultKind, type KernelSpec } from './kernel-spec.js';
import type { ReductionArgDescriptor } from './reduction.js';
import { buildScanSpec, requireScanExpressions, resolveScanBuilder } from './scan-spec.js';

/** What you pass to {@link inclusiveScan} and {@link exclusiveScan}. */
export interface ScanOptions<A extends Readonly<Record<string, ReductionArgDescriptor>>, D extends Dtype> {
  /** A label for messages and GPU tools. Default `inclusiveScan` or `exclusiveScan`. */
  readonly name?: string;
  /** The type of the scanned values and of the result array. */
  readonly dtype: D;
  /** WGSL expression combining an earlier value `a` with a later one `b`, e.g. `'a + b'`; must be associative. */
  readonly scan: string;
  /** WGSL expression for the identity of `scan` (`'0.0'` for a sum). */
  readonly neutral: string;
  /** WGSL expression for the value scanned at element `i`, e.g. `'x[i]'` or `'x[i] * x[i]'`. */
  readonly input: string;
  /** The arguments by name: `'f32'` for a scalar, `'f32[]'` for an input array (also `i32`, `u32`). */
  readonly args: A;
  /** WGSL declarations (helper functions, constants) placed before the kernel. */
  readonly preamble?: string;
}

/** A kernel made by {@link inclusiveScan} or {@link exclusiveScan}: running it resolves to the scanned array. */
export interface ScanKernel<A extends Readonly<Record<string, ReductionArgDescriptor>>, D extends Dtype>
  extends GpuKernel<KernelArgs<A>, TypedArrayFor<D>> {
  readonly spec: KernelSpec;
}

/**
 * Builds an inclusive scan (prefix sum), PyOpenCL's `InclusiveScanKernel`: element `i` of the result is
 * `scan(…scan(input(0), input(1))…, input(i))`. Runs in three passes for any `n` (see {@link genericScan}).
 *
 * @example
 * ```ts
 * const cumsum = inclusiveScan({ dtype: 'u32', scan: 'a + b', neutral: '0u', input: 'x[i]', args: { x: 'u32[]' } });
 * await executor.run(cumsum, { x: new Uint32Array([1, 2, 3]) }); // Uint32Array [1, 3, 6]
 * ```
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for a bad option; WGSL errors surface when the kernel
 *   first runs, as `CELERIAC_KERNEL_COMPILE_FAILED`
 */
export function inclusiveScan<const A extends Readonly<Record<string, ReductionArgDescriptor>>, const D extends Dtype>(
  options: ScanOptions<A, D>,
): ScanKernel<A, D> {
  return buildPrefixScan(options, 'inclusiveScan', 'item');
}

/**
 * Builds an exclusive scan, PyOpenCL's `ExclusiveScanKernel`: element `i` of the result combines the inputs before
 * `i`, and element 0 is `neutral`.
 *
 * @example
 * ```ts
 * const offsets = exclusiveScan({ dtype: 'u32', scan: 'a + b', neutral: '0u', input: 'x[i]', args: { x: 'u32[]' } });
 * await executor.run(offsets, { x: new Uint32Array([1, 2, 3]) }); // Uint32Array [0, 1, 3]
 * ```
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for a bad option; WGSL errors surface when the kernel
 *   first runs, as `CELERIAC_KERNEL_COMPILE_FAILED`
 */
export function exclusiveScan<const A extends Readonly<Record<string, ReductionArgDescriptor>>, const D extends Dtype>(
  options: ScanOptions<A, D>,
): ScanKernel<A, D> {
  return buildPrefixScan(options, 'exclusiveScan', 'prevItem');
}

function buildPrefixScan<A extends Readonly<Record<string, ReductionArgDescriptor>>, D extends Dtype>(
  options: ScanOptions<A, D>,
  fallbackName: string,
  written: 'item' | 'prevItem',
): ScanKernel<A, D> {
  const { name, layout, preamble } = resolveScanBuilder(options, fallbackName, false);
  const spec = buildScanSpec({
    kind: KernelKind.Scan,
    name,
    layout,
    dtype: options.dtype,
    ...requireScanExpressions(name, options),
    isSegmentStart: undefined,
    output: `_scanned[i] = ${written};`,
    preamble,
    extraScratch: [dtypeScratch('_scanned', options.dtype, ['n'])],
    result: { kind: ResultKind.Array, scratch: '_scanned', dtype: options.dtype },
  });
  return Object.freeze({ spec });
}
