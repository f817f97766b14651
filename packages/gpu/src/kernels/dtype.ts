import { CeleriacError, ErrorCode } from '@celeriac/core';

/**
 * The element types kernels support, as WGSL spells them. WGSL has no 64-bit types, and `f16` needs an optional
 * device feature, so celeriac starts with the three 32-bit types every WebGPU device has.
 */
export const Dtype = {
  F32: 'f32',
  I32: 'i32',
  U32: 'u32',
} as const;

/** One of the {@link Dtype} values. */
export type Dtype = (typeof Dtype)[keyof typeof Dtype];

/** The typed array that carries elements of dtype `D` in JavaScript. */
export type TypedArrayFor<D extends Dtype> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;

/** Any typed array a kernel accepts or returns. */
export type KernelArray = Float32Array | Int32Array | Uint32Array;

/** Every supported dtype, in a stable order for messages. */
export const dtypes: readonly Dtype[] = Object.values(Dtype);

/** Bytes per element; all supported dtypes are 32-bit, and the uniform and storage layouts rely on that. */
export const bytesPerElement = 4;

const typedArrayConstructors = {
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
} as const satisfies Record<Dtype, unknown>;

/** Whether `value` names a supported dtype. */
function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && (dtypes as readonly string[]).includes(value);
}

/**
 * Checks that `value` is a supported dtype, so a kernel never reaches the compiler with a type it cannot run.
 *
 * @param where - what carries the dtype, for the message (e.g. `argument "x"`)
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` naming the supported dtypes
 */
export function assertDtype(value: unknown, where: string): asserts value is Dtype {
  if (isDtype(value)) return;
  throw new CeleriacError(
    ErrorCode.KernelInvalidArguments,
    `Unsupported dtype ${JSON.stringify(value)} for ${where}. Supported dtypes are ${dtypes.join(', ')}; ` +
      'convert 64-bit or 16-bit data to one of them first.',
    { details: { where, dtype: String(value), supported: dtypes } },
  );
}

/** The typed-array constructor for `dtype`, used to check run arguments and to wrap read-back bytes. */
export function typedArrayConstructorFor(dtype: Dtype): (typeof typedArrayConstructors)[Dtype] {
  return typedArrayConstructors[dtype];
}

/** Whether `value` is the typed array for `dtype` (a `Float32Array` for `f32`, and so on). */
export function isTypedArrayFor(dtype: Dtype, value: unknown): value is KernelArray {
  return value instanceof typedArrayConstructors[dtype];
}
