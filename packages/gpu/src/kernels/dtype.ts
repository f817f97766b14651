import { CeleriacError, ErrorCode } from '@celeriac/core';

/**
 * The element types kernels support, as WGSL spells them. WGSL has no 64-bit types. The three 32-bit types run on
 * every WebGPU device; `f16` needs the `shader-f16` feature, and travels in JavaScript as a `Uint16Array` of IEEE
 * half-precision bits (Node 20 has no `Float16Array`): see `toHalfBits` and `fromHalfBits`.
 */
export const Dtype = {
  F32: 'f32',
  I32: 'i32',
  U32: 'u32',
  F16: 'f16',
} as const;

/** One of the {@link Dtype} values. */
export type Dtype = (typeof Dtype)[keyof typeof Dtype];

/** The typed array that carries elements of dtype `D` in JavaScript; `f16` elements are half-precision bits. */
export type TypedArrayFor<D extends Dtype> = D extends 'f32'
  ? Float32Array
  : D extends 'i32'
    ? Int32Array
    : D extends 'u32'
      ? Uint32Array
      : Uint16Array;

/** Any typed array a kernel accepts or returns. */
export type KernelArray = Float32Array | Int32Array | Uint32Array | Uint16Array;

/** The dtype whose elements a typed array `A` carries: `'f32'` for a `Float32Array`, `'f16'` for a `Uint16Array`… */
export type DtypeOf<A extends KernelArray> = A extends Float32Array
  ? 'f32'
  : A extends Int32Array
    ? 'i32'
    : A extends Uint32Array
      ? 'u32'
      : 'f16';

/** Every supported dtype, in a stable order for messages. */
export const dtypes: readonly Dtype[] = Object.values(Dtype);

const typedArrayConstructors = {
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  f16: Uint16Array,
} as const satisfies Record<Dtype, unknown>;

/** Bytes per element of `dtype` in a storage buffer (WGSL's size of the type). */
export function bytesOf(dtype: Dtype): number {
  return typedArrayConstructors[dtype].BYTES_PER_ELEMENT;
}

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
      'convert 64-bit data to one of them first.',
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

/**
 * The dtype of a typed array's elements, for uploads.
 *
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for any other value, naming the accepted arrays
 */
export function dtypeOf<A extends KernelArray>(value: A): DtypeOf<A> {
  const dtype = dtypes.find((candidate) => isTypedArrayFor(candidate, value));
  if (dtype !== undefined) return dtype as DtypeOf<A>;
  const accepted = dtypes.map((candidate) => typedArrayConstructors[candidate].name).join(', ');
  const got = ArrayBuffer.isView(value) ? (value as object).constructor.name : typeof value;
  throw new CeleriacError(ErrorCode.KernelInvalidArguments, `Cannot upload a ${got}: upload one of ${accepted}.`, {
    details: { got },
  });
}
