import type { GpuKernel } from '@celeriac/core';
import type { ArgDescriptor, KernelArgs, KernelOutputs } from './arg-descriptor.js';
import { requireWgslText, toStatement } from './builder-options.js';
import type { Dtype } from './dtype.js';
import { KernelKind, ResultKind, type KernelSpec } from './kernel-spec.js';
import { buildScanSpec, requireScanExpressions, resolveScanBuilder } from './scan-spec.js';

/** What you pass to {@link genericScan}. */
export interface GenericScanOptions<A extends Readonly<Record<string, ArgDescriptor>>> {
  /** A label for messages and GPU tools. Default `genericScan`. */
  readonly name?: string;
  /** The type of the scanned values. */
  readonly dtype: Dtype;
  /** The arguments by name: scalars, input arrays and `out` arrays (of length `n`), as for `elementwise`. */
  readonly args: A;
  /** WGSL expression for the value scanned at element `i` (PyOpenCL's `input_expr`). */
  readonly input: string;
  /** WGSL expression combining an earlier value `a` with a later one `b` (`scan_expr`); must be associative. */
  readonly scan: string;
  /** WGSL expression for the identity of `scan`. */
  readonly neutral: string;
  /**
   * WGSL `bool` expression of `i` (`is_segment_start_expr`): where true, the scan restarts at element `i`, making
   * this a segmented scan.
   */
  readonly isSegmentStart?: string;
  /**
   * WGSL statement(s) run once per element (`output_statement`), seeing `item` (the inclusive scan at `i`),
   * `prevItem` (the scan before `i`: `neutral` at `i = 0` and at a segment start), `i`, `n`, `isSegmentStart` and
   * the arguments. It writes the `out` arrays.
   */
  readonly output: string;
  /** WGSL declarations (helper functions, constants) placed before the kernel. */
  readonly preamble?: string;
}

/** A kernel made by {@link genericScan}: running it resolves to its `out` arrays by name. */
export interface GenericScanKernel<A extends Readonly<Record<string, ArgDescriptor>>>
  extends GpuKernel<KernelArgs<A>, KernelOutputs<A>> {
  readonly spec: KernelSpec;
}

/**
 * Builds a scan with an input map, an optional segmentation and a free-form output statement, PyOpenCL's
 * `GenericScanKernel` for WGSL. Any `n` up to the binding limit runs in three dispatches: each of a bounded number of
 * blocks scans its contiguous range in tiles in workgroup memory, one workgroup scans the block totals, and each
 * block scans its range again from its prefix, running `output`. `scan` must be associative (it need not commute).
 *
 * @example
 * ```ts
 * // Per-segment running sums, where a segment starts at every flagged element.
 * const segmentedSum = genericScan({
 *   dtype: 'f32',
 *   args: { x: 'f32[]', flags: 'u32[]', y: 'out f32[]' },
 *   input: 'x[i]',
 *   scan: 'a + b',
 *   neutral: '0.0',
 *   isSegmentStart: 'flags[i] != 0u',
 *   output: 'y[i] = item',
 * });
 * const { y } = await executor.run(segmentedSum, { x, flags });
 * ```
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for a bad option; WGSL errors surface when the kernel
 *   first runs, as `CELERIAC_KERNEL_COMPILE_FAILED`
 */
export function genericScan<const A extends Readonly<Record<string, ArgDescriptor>>>(
  options: GenericScanOptions<A>,
): GenericScanKernel<A> {
  const { name, layout, preamble } = resolveScanBuilder(options, 'genericScan', true);
  const spec = buildScanSpec({
    kind: KernelKind.Scan,
    name,
    layout,
    dtype: options.dtype,
    ...requireScanExpressions(name, options),
    isSegmentStart:
      options.isSegmentStart === undefined ? undefined : requireWgslText(name, 'isSegmentStart', options.isSegmentStart),
    output: toStatement(requireWgslText(name, 'output', options.output)),
    preamble,
    extraScratch: [],
    result: { kind: ResultKind.Outputs },
  });
  return Object.freeze({ spec });
}
