import { CeleriacError, ErrorCode } from '@celeriac/core';
import { assertDtype, type Dtype, type TypedArrayFor } from './dtype.js';
import { assertWgslIdentifier } from './wgsl-identifier.js';
import type { GpuArray } from '../executor/gpu-array.js';

/** A scalar argument (`'f32'`): one value in the kernel's uniform block, the WGSL form of CUDA constant memory. */
export type ScalarDescriptor = Dtype;
/** A read-only array argument (`'f32[]'`): a `var<storage, read>` buffer in global memory. */
export type ArrayDescriptor = `${Dtype}[]`;
/** An output array (`'out f32[]'`): a `var<storage, read_write>` buffer of length `n`, allocated and returned. */
export type OutputDescriptor = `out ${Dtype}[]`;
/** How a kernel argument is declared in a builder's `args` object. */
export type ArgDescriptor = ScalarDescriptor | ArrayDescriptor | OutputDescriptor;

/** The three kinds of kernel argument; the descriptor's spelling decides which one an argument is. */
export const ArgKind = {
  Scalar: 'scalar',
  Input: 'input',
  Output: 'output',
} as const;

/** One of the {@link ArgKind} values. */
export type ArgKind = (typeof ArgKind)[keyof typeof ArgKind];

/** A parsed, validated argument declaration. */
export interface ParsedArg {
  readonly name: string;
  readonly dtype: Dtype;
  readonly kind: ArgKind;
}

/** Flattens mapped types so editors show `{ x: Float32Array }` instead of the mapping. */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The run arguments of a kernel declared with `args`: a typed array (or a `GpuArray` already on the device) for each
 * input array, a number for each scalar. Outputs are not passed in; the runtime allocates them.
 */
export type KernelArgs<A extends Readonly<Record<string, ArgDescriptor>>> = Simplify<{
  -readonly [K in keyof A as A[K] extends OutputDescriptor ? never : K]: A[K] extends `${infer D extends Dtype}[]`
    ? TypedArrayFor<D> | GpuArray<D>
    : number;
}>;

/** The result of a kernel declared with `args`: one typed array of length `n` per output, by name. */
export type KernelOutputs<A extends Readonly<Record<string, ArgDescriptor>>> = Simplify<{
  -readonly [K in keyof A as A[K] extends OutputDescriptor ? K : never]: A[K] extends `out ${infer D extends Dtype}[]`
    ? TypedArrayFor<D>
    : never;
}>;

const descriptorPattern = /^(out\s+)?([A-Za-z0-9]+)(\[\])?$/;

/**
 * Parses one entry of a builder's `args` object, e.g. `('z', 'out f32[]')`.
 *
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` naming the argument, for a bad name, an unknown form,
 *   an unsupported dtype or a scalar output
 */
export function parseArgDescriptor(name: string, descriptor: unknown): ParsedArg {
  assertWgslIdentifier(name, 'argument name');
  const match = typeof descriptor === 'string' ? descriptorPattern.exec(descriptor.trim()) : null;
  if (match === null) {
    throw new CeleriacError(
      ErrorCode.KernelInvalidArguments,
      `Argument "${name}" has descriptor ${JSON.stringify(descriptor)}, which is not one of the forms ` +
        `'f32' (scalar), 'f32[]' (input array) or 'out f32[]' (output array). Use one of those forms.`,
      { details: { argument: name, descriptor: String(descriptor) } },
    );
  }
  const [, out, dtype, brackets] = match;
  assertDtype(dtype, `argument "${name}"`);
  if (out !== undefined && brackets === undefined) {
    throw new CeleriacError(
      ErrorCode.KernelInvalidArguments,
      `Argument "${name}" is declared 'out ${dtype}', but outputs must be arrays. Declare it 'out ${dtype}[]'.`,
      { details: { argument: name, descriptor } },
    );
  }
  const kind = out !== undefined ? ArgKind.Output : brackets !== undefined ? ArgKind.Input : ArgKind.Scalar;
  return { name, dtype, kind };
}
