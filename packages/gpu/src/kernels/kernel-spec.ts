import type { Dtype } from './dtype.js';

/**
 * The kinds of kernel the builders make. The executor process switches on this to decide how many passes to encode
 * and what to read back.
 */
export const KernelKind = {
  Elementwise: 'elementwise',
  Reduction: 'reduction',
} as const;

/** One of the {@link KernelKind} values. */
export type KernelKind = (typeof KernelKind)[keyof typeof KernelKind];

/** Version of the {@link KernelSpec} shape, so an executor can refuse a spec from an incompatible build. */
export const kernelSpecVersion = 1;

/** Threads per workgroup in every generated kernel: a common sweet spot, and the size of the reduction tree. */
export const workgroupSize = 256;

/** Names of the generated entry points: `_main` for the (first) pass, `_finish` for a reduction's second pass. */
export const EntryPoint = {
  Main: '_main',
  Finish: '_finish',
} as const;

/** The uniform block (`params`: `n` then the scalars) is always binding 0 of group 0. */
export const paramsBinding = 0;

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
  /** True for `out` arrays, which the runtime allocates with length `n` and reads back. */
  readonly output: boolean;
};

/**
 * What every kernel spec carries: the generated WGSL and the binding layout that goes with it. It is plain data
 * (strings, numbers, arrays), so it crosses the process boundary to the GPU executor unchanged, and its WGSL is the
 * pipeline cache key.
 */
export type KernelSpecBase = {
  readonly version: typeof kernelSpecVersion;
  /** A label for messages and GPU debugging tools. */
  readonly name: string;
  readonly wgsl: string;
  readonly workgroupSize: number;
  /** The scalars in uniform-block order. */
  readonly scalars: readonly ScalarSlot[];
  /** The input and output arrays in binding order. */
  readonly arrays: readonly ArraySlot[];
};

/** The spec of an {@link elementwise} kernel: one pass, one thread per element. */
export type ElementwiseSpec = KernelSpecBase & { readonly kind: typeof KernelKind.Elementwise };

/**
 * The spec of a {@link reduction} kernel: a first pass writing one partial per workgroup into `partialsBinding`, and
 * a `_finish` pass reducing those partials into element 0 of `resultBinding`.
 */
export type ReductionSpec = KernelSpecBase & {
  readonly kind: typeof KernelKind.Reduction;
  readonly dtype: Dtype;
  readonly partialsBinding: number;
  readonly resultBinding: number;
};

/** A kernel spec as the builders make it and the executor runs it. */
export type KernelSpec = ElementwiseSpec | ReductionSpec;

/**
 * Whether `value` looks like a spec made by this version of the builders. A cheap shape check for the executor's
 * boundary: it catches a hand-made `GpuKernel` or one built by another version, not a tampered one.
 */
export function isKernelSpec(value: unknown): value is KernelSpec {
  if (typeof value !== 'object' || value === null) return false;
  const spec = value as Partial<Record<keyof KernelSpec, unknown>>;
  return (
    spec.version === kernelSpecVersion &&
    (spec.kind === KernelKind.Elementwise || spec.kind === KernelKind.Reduction) &&
    typeof spec.wgsl === 'string' &&
    Array.isArray(spec.scalars) &&
    Array.isArray(spec.arrays)
  );
}

/**
 * Deep-freezes a freshly built spec: kernels are shared between calls and cached by their WGSL, so nothing may
 * change a spec after it was built.
 */
export function freezeKernelSpec<Spec extends KernelSpec>(spec: Spec): Spec {
  return deepFreeze(spec);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
