import type { GpuKernel } from '@celeriac/core';
import type { ArrayDescriptor, KernelArgs, ScalarDescriptor } from './arg-descriptor.js';
import { requireWgslText, resolveKernelName, resolvePreamble } from './builder-options.js';
import { assertDtype, type Dtype } from './dtype.js';
import {
  appendScratch,
  buildKernelLayout,
  dtypeScratch,
  renderLayoutDeclarations,
  renderScalarLets,
  renderScratchDeclarations,
  type KernelLayout,
} from './kernel-layout.js';
import {
  GridKind,
  KernelKind,
  ResultKind,
  finishKernelSpec,
  workgroupSize,
  type KernelSpec,
  type KernelSpecDraft,
  type ScratchSlot,
} from './kernel-spec.js';
import { GpuFeature } from './gpu-feature.js';
import { renderBlockCount } from './run-sizes.js';
import { subgroupReducer, treeReducer, type WorkgroupReducer } from './workgroup-reducer.js';

/** The argument descriptors a reduction accepts: scalars and input arrays, no outputs. */
export type ReductionArgDescriptor = ScalarDescriptor | ArrayDescriptor;

/** What you pass to {@link reduction}. */
export interface ReductionOptions<A extends Readonly<Record<string, ReductionArgDescriptor>>> {
  /** A label for messages and GPU tools. Default `reduction`. */
  readonly name?: string;
  /** The type of the mapped values, of the partial results and of the result. */
  readonly dtype: Dtype;
  /** WGSL expression for the identity of `reduce` (`'0.0'` for a sum, the lowest value for a max). */
  readonly neutral: string;
  /** WGSL expression mapping element `i` to a value of `dtype`, e.g. `'x[i] * y[i]'`. */
  readonly map: string;
  /** WGSL expression combining two values `a` and `b`, e.g. `'a + b'` or `'max(a, b)'`; must be associative. */
  readonly reduce: string;
  /** The arguments by name: `'f32'` for a scalar, `'f32[]'` for an input array (also `i32`, `u32`). */
  readonly args: A;
  /** WGSL declarations (helper functions, constants) placed before the kernel. */
  readonly preamble?: string;
}

/** A kernel made by {@link reduction}: running it resolves to the reduced value. */
export interface ReductionKernel<A extends Readonly<Record<string, ReductionArgDescriptor>>>
  extends GpuKernel<KernelArgs<A>, number> {
  readonly spec: KernelSpec;
}

/**
 * Builds a map-reduce kernel, PyOpenCL's `ReductionKernel` for WGSL: `reduce(…reduce(neutral, map(0))…, map(n-1))`
 * in an unspecified order, so `reduce` must be associative (and floating-point sums round differently from a
 * sequential loop).
 *
 * Two passes: the first runs a bounded number of workgroups, each thread folding elements in a grid-stride loop and
 * each workgroup combining its threads in a tree in workgroup memory (CUDA's shared memory), writing one partial per
 * workgroup; the second reduces the partials in one workgroup. An empty input gives `neutral`. On a device with
 * the `subgroups` feature the workgroup step is a `subgroupShuffleXor` butterfly instead (the spec's variant).
 *
 * @example
 * ```ts
 * const dot = reduction({ dtype: 'f32', neutral: '0.0', map: 'x[i] * y[i]', reduce: 'a + b', args: { x: 'f32[]', y: 'f32[]' } });
 * const value = await executor.run(dot, { x, y }); // number
 * ```
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for a bad name, dtype, argument or empty expression;
 *   WGSL errors surface when the kernel first runs, as `CELERIAC_KERNEL_COMPILE_FAILED`
 */
export function reduction<const A extends Readonly<Record<string, ReductionArgDescriptor>>>(
  options: ReductionOptions<A>,
): ReductionKernel<A> {
  const name = resolveKernelName(options.name, 'reduction');
  assertDtype(options.dtype, `${name}.dtype`);
  const layout = buildKernelLayout(name, options.args, false);
  const dtype = options.dtype;
  const scratch = appendScratch(layout, [dtypeScratch('_partials', dtype, ['blocks']), dtypeScratch('_result', dtype, [])]);
  const code: ReductionCode = {
    dtype,
    neutral: requireWgslText(name, 'neutral', options.neutral),
    map: requireWgslText(name, 'map', options.map),
    reduce: requireWgslText(name, 'reduce', options.reduce),
    preamble: resolvePreamble(name, options.preamble),
  };
  const spec: KernelSpecDraft = {
    kind: KernelKind.Reduction,
    name,
    wgsl: renderReductionWgsl(layout, scratch, code, treeReducer),
    variants: [{ feature: GpuFeature.Subgroups, wgsl: renderReductionWgsl(layout, scratch, code, subgroupReducer) }],
    ...layout,
    scratch,
    passes: [
      { entryPoint: '_main', grid: { kind: GridKind.Workgroups, x: ['blocks'], y: [], per: 1 } },
      // Dispatches in one compute pass see each other's storage writes, so this one reads every partial.
      { entryPoint: '_finish', grid: { kind: GridKind.Workgroups, x: [], y: [], per: 1 } },
    ],
    result: { kind: ResultKind.Value, scratch: '_result', dtype },
  };
  return Object.freeze({ spec: finishKernelSpec(spec) });
}

interface ReductionCode {
  readonly dtype: Dtype;
  readonly neutral: string;
  readonly map: string;
  readonly reduce: string;
  readonly preamble: string;
}

function renderReductionWgsl(
  layout: KernelLayout,
  scratch: readonly ScratchSlot[],
  code: ReductionCode,
  reducer: WorkgroupReducer,
): string {
  const t = code.dtype;
  return `${reducer.enable}
${renderLayoutDeclarations(layout)}
${renderScratchDeclarations(scratch)}

${code.preamble}

fn _reduce(a: ${t}, b: ${t}) -> ${t} {
  return ${code.reduce};
}

${reducer.render(t)}

${renderFirstPass(layout, code, reducer)}

${renderSecondPass(code, reducer)}
`.replace(/\n{3,}/g, '\n\n').trimStart();
}

/** Pass 1: each workgroup folds a grid-stride share of the elements and writes one partial. */
function renderFirstPass(layout: KernelLayout, code: ReductionCode, reducer: WorkgroupReducer): string {
  return `@compute @workgroup_size(${workgroupSize})
fn _main(@builtin(local_invocation_index) _lid: u32, @builtin(workgroup_id) _wid: vec3<u32>,
    @builtin(num_workgroups) _groups: vec3<u32>${reducer.builtins}) {
${renderScalarLets(layout, '  ')}
  var _acc: ${code.dtype} = ${code.neutral};
  // Grid-stride loop: a bounded number of workgroups covers any n, and most of the work stays in registers.
  for (var i = _wid.x * ${workgroupSize}u + _lid; i < n; i += _groups.x * ${workgroupSize}u) {
    _acc = _reduce(_acc, ${code.map});
  }
  let _total = ${reducer.call('_acc')};
  if (_lid == 0u) {
    _partials[_wid.x] = _total;
  }
}`;
}

/** Pass 2: one workgroup folds the partials (as many as pass 1 had workgroups) into the result. */
function renderSecondPass(code: ReductionCode, reducer: WorkgroupReducer): string {
  return `@compute @workgroup_size(${workgroupSize})
fn _finish(@builtin(local_invocation_index) _lid: u32${reducer.builtins}) {
  var _acc: ${code.dtype} = ${code.neutral};
  for (var _k = _lid; _k < ${renderBlockCount(workgroupSize)}; _k += ${workgroupSize}u) {
    _acc = _reduce(_acc, _partials[_k]);
  }
  let _total = ${reducer.call('_acc')};
  if (_lid == 0u) {
    _result[0] = _total;
  }
}`;
}
