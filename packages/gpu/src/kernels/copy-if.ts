import type { GpuKernel } from '@celeriac/core';
import type { KernelArgs } from './arg-descriptor.js';
import { requireWgslText } from './builder-options.js';
import type { Dtype, TypedArrayFor } from './dtype.js';
import { dtypeScratch } from './kernel-layout.js';
import { KernelKind, ResultKind, type KernelSpec } from './kernel-spec.js';
import type { ReductionArgDescriptor } from './reduction.js';
import { buildScanSpec, resolveScanBuilder } from './scan-spec.js';

/** What you pass to {@link copyIf}. */
export interface CopyIfOptions<A extends Readonly<Record<string, ReductionArgDescriptor>>, D extends Dtype> {
  /** A label for messages and GPU tools. Default `copyIf`. */
  readonly name?: string;
  /** The type of the kept values. */
  readonly dtype: D;
  /** WGSL `bool` expression of `i`: whether element `i` is kept, e.g. `'x[i] > 0.0'`. */
  readonly predicate: string;
  /** WGSL expression for the value kept at element `i`, usually `'x[i]'`. */
  readonly value: string;
  /** The arguments by name: `'f32'` for a scalar, `'f32[]'` for an input array (also `i32`, `u32`). */
  readonly args: A;
  /** WGSL declarations (helper functions, constants) placed before the kernel. */
  readonly preamble?: string;
}

/** What a {@link copyIf} kernel resolves to: the kept values in their original order, and how many there are. */
export interface CopyIfResult<D extends Dtype> {
  readonly values: TypedArrayFor<D>;
  readonly count: number;
}

/** A kernel made by {@link copyIf}. */
export interface CopyIfKernel<A extends Readonly<Record<string, ReductionArgDescriptor>>, D extends Dtype>
  extends GpuKernel<KernelArgs<A>, CopyIfResult<D>> {
  readonly spec: KernelSpec;
}

/**
 * Builds a stream compaction, PyOpenCL's `copy_if`: keeps `value(i)` for every `i` where `predicate(i)` holds, in
 * order. It is a scan: an exclusive sum of the predicate gives each kept element its output index, and the total is
 * the count.
 *
 * @example
 * ```ts
 * const positives = copyIf({ dtype: 'f32', predicate: 'x[i] > 0.0', value: 'x[i]', args: { x: 'f32[]' } });
 * const { values, count } = await executor.run(positives, { x: new Float32Array([1, -2, 3]) }); // [1, 3], 2
 * ```
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for a bad option; WGSL errors surface when the kernel
 *   first runs, as `CELERIAC_KERNEL_COMPILE_FAILED`
 */
export function copyIf<const A extends Readonly<Record<string, ReductionArgDescriptor>>, const D extends Dtype>(
  options: CopyIfOptions<A, D>,
): CopyIfKernel<A, D> {
  const { name, layout, preamble } = resolveScanBuilder(options, 'copyIf', false);
  const predicate = requireWgslText(name, 'predicate', options.predicate);
  const value = requireWgslText(name, 'value', options.value);
  const spec = buildScanSpec({
    kind: KernelKind.CopyIf,
    name,
    layout,
    dtype: 'u32',
    neutral: '0u',
    scan: 'a + b',
    input: `select(0u, 1u, ${predicate})`,
    isSegmentStart: undefined,
    // The scan rises exactly at kept elements, and prevItem is the number kept before: the output index.
    output: `if (item != prevItem) { _values[prevItem] = ${value}; }`,
    preamble,
    extraScratch: [dtypeScratch('_values', options.dtype, ['n'])],
    result: { kind: ResultKind.Compacted, scratch: '_values', dtype: options.dtype, count: '_total' },
  });
  return Object.freeze({ spec });
}
