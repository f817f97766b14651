import type { GpuKernel } from '@celeriac/core';
import type { ArgDescriptor, KernelArgs, KernelOutputs } from './arg-descriptor.js';
import { requireWgslText, resolveKernelName, resolvePreamble, toStatement } from './builder-options.js';
import { buildKernelLayout, renderLayoutDeclarations, renderScalarLets, type KernelLayout } from './kernel-layout.js';
import {
  GridKind,
  KernelKind,
  ResultKind,
  finishKernelSpec,
  workgroupSize,
  type KernelSpec,
  type KernelSpecDraft,
} from './kernel-spec.js';

/** What you pass to {@link elementwise}. */
export interface ElementwiseOptions<A extends Readonly<Record<string, ArgDescriptor>>> {
  /** A label for messages and GPU tools. Default `elementwise`. */
  readonly name?: string;
  /**
   * The arguments by name: `'f32'` for a scalar, `'f32[]'` for an input array, `'out f32[]'` for an output array
   * (also `i32` and `u32`). At least one input array is required: its length is the element count `n`.
   */
  readonly args: A;
  /**
   * WGSL statement(s) run once per element; `i` is the element's index and `n` the element count. A run's `range`
   * option (PyOpenCL's `range=`) limits the indices `i` takes.
   */
  readonly operation: string;
  /** WGSL declarations (helper functions, constants) placed before the kernel. */
  readonly preamble?: string;
}

/** A kernel made by {@link elementwise}: run it with `executor.run(kernel, args)` to get its output arrays. */
export interface ElementwiseKernel<A extends Readonly<Record<string, ArgDescriptor>>>
  extends GpuKernel<KernelArgs<A>, KernelOutputs<A>> {
  readonly spec: KernelSpec;
}

/**
 * Builds an elementwise kernel, PyOpenCL's `ElementwiseKernel` for WGSL: `operation` runs once per element, with
 * `i` the element's index. Scalars live in a uniform block (constant memory), input arrays in read-only storage,
 * and output arrays in read-write storage allocated with the inputs' length and returned by name.
 *
 * The argument and result types are derived from `args`, so a wrong run payload does not compile.
 *
 * @example
 * ```ts
 * const axpby = elementwise({
 *   name: 'axpby',
 *   args: { z: 'out f32[]', a: 'f32', x: 'f32[]', b: 'f32', y: 'f32[]' },
 *   operation: 'z[i] = a * x[i] + b * y[i]',
 * });
 * const { z } = await executor.run(axpby, { a: 2, x, b: 3, y }); // z: Float32Array
 * // Only the even indices below 1000; z's other elements are 0.
 * const { z: even } = await executor.run(axpby, { a: 2, x, b: 3, y }, { range: { stop: 1000, step: 2 } });
 * ```
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for a bad name, argument or empty operation; WGSL
 *   errors surface when the kernel first runs, as `CELERIAC_KERNEL_COMPILE_FAILED`
 */
export function elementwise<const A extends Readonly<Record<string, ArgDescriptor>>>(
  options: ElementwiseOptions<A>,
): ElementwiseKernel<A> {
  const name = resolveKernelName(options.name, 'elementwise');
  const layout = buildKernelLayout(name, options.args, true);
  const operation = requireWgslText(name, 'operation', options.operation);
  const preamble = resolvePreamble(name, options.preamble);
  const spec: KernelSpecDraft = {
    kind: KernelKind.Elementwise,
    name,
    wgsl: renderElementwiseWgsl(layout, operation, preamble),
    variants: [],
    ...layout,
    scratch: [],
    passes: [{ entryPoint: '_main', grid: { kind: GridKind.Threads, count: ['items'] } }],
    acceptsRange: true,
    result: { kind: ResultKind.Outputs },
  };
  return Object.freeze({ spec: finishKernelSpec(spec) });
}

function renderElementwiseWgsl(layout: KernelLayout, operation: string, preamble: string): string {
  return `${renderLayoutDeclarations(layout, true)}

${preamble}

@compute @workgroup_size(${workgroupSize})
fn _main(@builtin(global_invocation_id) _gid: vec3<u32>, @builtin(num_workgroups) _groups: vec3<u32>) {
  // A dispatch wider than maxComputeWorkgroupsPerDimension is folded into rows of _groups.x workgroups.
  let _item = _gid.y * _groups.x * ${workgroupSize}u + _gid.x;
  // The last row of a folded dispatch, and the last workgroup of any dispatch, run past the range's end.
  if (_item >= params._count) {
    return;
  }
  // Without a range, the runtime passes start 0, step 1 and count n: i runs over every element.
  let i = params._start + _item * params._step;
${renderScalarLets(layout, '  ')}
  ${toStatement(operation)}
}
`.replace(/\n{3,}/g, '\n\n');
}
