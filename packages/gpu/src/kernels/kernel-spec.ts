import type { Dtype } from './dtype.js';
import { GpuFeature } from './gpu-feature.js';

/**
 * The kinds of kernel the builders make. A label for messages and tools only: the executor runs every kind the same
 * way, from the spec's passes, buffers and result rule.
 */
export const KernelKind = {
  Elementwise: 'elementwise',
  Reduction: 'reduction',
  Scan: 'scan',
  CopyIf: 'copyIf',
  Matmul: 'matmul',
} as const;

/** One of the {@link KernelKind} values. */
export type KernelKind = (typeof KernelKind)[keyof typeof KernelKind];

/** Version of the {@link KernelSpec} shape, so an executor can refuse a spec from an incompatible build. */
export const kernelSpecVersion = 4;

/** Threads per workgroup in every generated kernel: a common sweet spot, and the width of the workgroup trees. */
export const workgroupSize = 256;

/**
 * Elements one scan workgroup handles per step: each of its 256 threads scans a run of 16 consecutive elements in
 * registers, so the workgroup's barriers are paid once per 4096 elements rather than once per 256.
 */
export const scanTileSize = workgroupSize * 16;

/**
 * Most workgroups ("blocks") a reduction or scan pass launches. Enough to fill a large GPU; each block loops over its
 * share of the input, and the pass that combines the blocks' partials has at most this many to fold in one workgroup.
 */
export const maxBlocks = 1024;

/** The uniform block (`params`: `n` then the scalars) is always binding 0 of group 0. */
export const paramsBinding = 0;

/**
 * A count computed from a run's sizes, as the product of its factors: `'n'` (the element count), `'items'` (the
 * indices a kernel that accepts a range runs for: the range's length, else `n`), `'blocks'` (a
 * reduction's block count, `min(max(1, ceil(n / workgroupSize)), maxBlocks)`), `'scanBlocks'` (a scan's,
 * `min(max(1, ceil(n / scanTileSize)), maxBlocks)`) or the name of a `u32` scalar. `[]` is 1.
 * Plain data, so it crosses the process boundary and the parent and the executor evaluate it alike.
 */
export type SizeExpr = readonly string[];

/** How a pass's workgroup count is computed from the run's sizes. */
export const GridKind = {
  /** `ceil(count / workgroupSize)` workgroups of one thread per item, folded into 2-D past the per-dimension limit. */
  Threads: 'threads',
  /** `ceil(x / per)` by `ceil(y / per)` workgroups: tiles of a matrix, or one workgroup per block with `per: 1`. */
  Workgroups: 'workgroups',
} as const;

/** One of the {@link GridKind} values. */
export type GridKind = (typeof GridKind)[keyof typeof GridKind];

/** A pass's grid, see {@link GridKind}. */
export type GridRule =
  | { readonly kind: typeof GridKind.Threads; readonly count: SizeExpr }
  | { readonly kind: typeof GridKind.Workgroups; readonly x: SizeExpr; readonly y: SizeExpr; readonly per: number };

/** One dispatch of a kernel: an entry point of the spec's WGSL and its grid. Passes run in order, in one submit. */
export type PassSpec = {
  readonly entryPoint: string;
  readonly grid: GridRule;
};

/** A scalar argument's slot in the uniform block; slot k (0-based) sits at byte offset `4 * (k + 1)`, after `n`. */
export type ScalarSlot = {
  readonly name: string;
  readonly dtype: Dtype;
};

/** An array argument's storage binding in group 0. */
export type ArraySlot = {
  readonly name: string;
  readonly dtype: Dtype;
  readonly binding: number;
  /** True for `out` arrays, which the runtime allocates and reads back. */
  readonly output: boolean;
  /** Its element count: `['n']` for arrays of the common length, or a product of `u32` scalars (matrices). */
  readonly length: SizeExpr;
};

/** A buffer the generated code uses internally (partials, results), allocated per run and never passed in. */
export type ScratchSlot = {
  readonly name: string;
  /** Its WGSL element type: a dtype, or a struct the WGSL declares (`_Carry`). */
  readonly wgslType: string;
  /** Bytes per element, to size the buffer. */
  readonly elementBytes: number;
  readonly binding: number;
  readonly length: SizeExpr;
};

/** What a run resolves to, and which buffers it reads back. */
export const ResultKind = {
  /** The `out` arrays by name. */
  Outputs: 'outputs',
  /** Element 0 of a scratch buffer, as a number (a reduction). */
  Value: 'value',
  /** A whole scratch buffer as one typed array (a scan's result, a matrix product). */
  Array: 'array',
  /** `{ values, count }`: the first `count` elements of one scratch buffer, `count` being element 0 of another. */
  Compacted: 'compacted',
} as const;

/** A spec's result rule, see {@link ResultKind}. Scratch buffers are named; their dtype is `dtype`. */
export type ResultRule =
  | { readonly kind: typeof ResultKind.Outputs }
  | { readonly kind: typeof ResultKind.Value; readonly scratch: string; readonly dtype: Dtype }
  | { readonly kind: typeof ResultKind.Array; readonly scratch: string; readonly dtype: Dtype }
  | { readonly kind: typeof ResultKind.Compacted; readonly scratch: string; readonly dtype: Dtype; readonly count: string };

/**
 * Alternative WGSL for devices with an optional feature: the same bindings and entry points, faster code. The
 * executor runs the first variant whose feature the device has and its options allow, else the spec's own `wgsl`.
 */
export type KernelVariant = {
  readonly feature: GpuFeature;
  readonly wgsl: string;
};

/**
 * A kernel as the builders make it and the executor runs it: the generated WGSL, the binding layout, the passes
 * (entry point and grid each, all encoded in one submit) and what to read back. It is plain data (strings, numbers,
 * arrays), so it crosses the process boundary to the GPU executor unchanged, and its WGSL is the pipeline cache key.
 * A new kind of kernel is a new builder; the executor needs no change.
 */
export type KernelSpec = {
  readonly version: typeof kernelSpecVersion;
  readonly kind: KernelKind;
  /** A label for messages and GPU debugging tools. */
  readonly name: string;
  /** The portable WGSL, which every device runs. */
  readonly wgsl: string;
  /** Faster WGSL for devices with an optional feature, tried in order. */
  readonly variants: readonly KernelVariant[];
  /** The scalars in uniform-block order. */
  readonly scalars: readonly ScalarSlot[];
  /** The input and output arrays in binding order. */
  readonly arrays: readonly ArraySlot[];
  /** Internal buffers, bound after the arrays. */
  readonly scratch: readonly ScratchSlot[];
  readonly passes: readonly PassSpec[];
  readonly result: ResultRule;
  /**
   * Whether a run may pass a `range` (elementwise kernels; see core's `KernelRange`). Their uniform block then holds the range
   * after `n`, as `_start`, `_step` and `_count`, before the scalars.
   */
  readonly acceptsRange: boolean;
  /**
   * Device features the kernel cannot run without (`shader-f16` for f16 data): on a device without them the run
   * fails with `CELERIAC_GPU_UNAVAILABLE` naming the feature, instead of a compiler error.
   */
  readonly features: readonly GpuFeature[];
};

/** A spec as a builder assembles it, before {@link finishKernelSpec} adds what follows from it. */
export type KernelSpecDraft = Omit<KernelSpec, 'version' | 'features' | 'acceptsRange'> & { readonly acceptsRange?: boolean };

/**
 * Whether `value` looks like a spec made by this version of the builders. A cheap shape check for the executor's
 * boundary: it catches a hand-made `GpuKernel` or one built by another version, not a tampered one.
 */
export function isKernelSpec(value: unknown): value is KernelSpec {
  if (typeof value !== 'object' || value === null) return false;
  const spec = value as Partial<Record<keyof KernelSpec, unknown>>;
  return (
    spec.version === kernelSpecVersion &&
    typeof spec.wgsl === 'string' &&
    Array.isArray(spec.variants) &&
    Array.isArray(spec.scalars) &&
    Array.isArray(spec.arrays) &&
    Array.isArray(spec.scratch) &&
    Array.isArray(spec.passes) &&
    Array.isArray(spec.features) &&
    typeof spec.acceptsRange === 'boolean' &&
    typeof spec.result === 'object'
  );
}

/**
 * Completes a builder's spec: a kernel that touches f16 anywhere (an argument, a scratch buffer, its result) gets
 * `enable f16;` at the top of each of its WGSL texts and requires `shader-f16`, so no builder handles f16 itself.
 * The spec is then deep-frozen: kernels are shared between calls and cached by their WGSL, so nothing may change a
 * spec after it was built.
 */
export function finishKernelSpec(draft: KernelSpecDraft): KernelSpec {
  const slots = [...draft.scalars, ...draft.arrays].map((slot) => slot.dtype as string);
  const types = [...slots, ...draft.scratch.map((slot) => slot.wgslType), 'dtype' in draft.result ? draft.result.dtype : ''];
  const f16 = types.includes('f16');
  const enable = (wgsl: string): string => (f16 ? `enable f16;\n${wgsl}` : wgsl);
  return deepFreeze({
    ...draft,
    version: kernelSpecVersion,
    acceptsRange: draft.acceptsRange ?? false,
    wgsl: enable(draft.wgsl),
    variants: draft.variants.map((variant) => ({ ...variant, wgsl: enable(variant.wgsl) })),
    features: f16 ? [GpuFeature.ShaderF16] : [],
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
