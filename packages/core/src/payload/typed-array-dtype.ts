/**
 * The element types of the typed arrays celeriac carries as binary, by the name they have on the wire (in blob refs
 * and in the `x-celeriac-dtype` annotation of a JSON Schema). Bytes are always little-endian, the byte order of
 * every platform Node runs on.
 */
export const TypedArrayDtype = {
  Int8: 'int8',
  Uint8: 'uint8',
  Uint8Clamped: 'uint8clamped',
  Int16: 'int16',
  Uint16: 'uint16',
  Int32: 'int32',
  Uint32: 'uint32',
  Float32: 'float32',
  Float64: 'float64',
  BigInt64: 'bigint64',
  BigUint64: 'biguint64',
} as const;
/** One of {@link TypedArrayDtype}. */
export type TypedArrayDtype = (typeof TypedArrayDtype)[keyof typeof TypedArrayDtype];

/** Any typed array celeriac can carry. */
export type AnyTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** What makes a typed array of one dtype from a length (for decoding). */
export type TypedArrayConstructor = new (length: number) => AnyTypedArray;

/** dtype → constructor, and the `Symbol.toStringTag` each constructor's arrays report. */
const constructors: Readonly<Record<TypedArrayDtype, TypedArrayConstructor>> = {
  int8: Int8Array,
  uint8: Uint8Array,
  uint8clamped: Uint8ClampedArray,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
  bigint64: BigInt64Array,
  biguint64: BigUint64Array,
};

const dtypeByTag: ReadonlyMap<string, TypedArrayDtype> = new Map(
  Object.entries(constructors).map(([dtype, ctor]) => [ctor.name, dtype as TypedArrayDtype]),
);

// %TypedArray%.prototype[Symbol.toStringTag] is a getter that reads the array's internal type name. Reading it
// rather than using `instanceof` recognises arrays made in another realm (a worker thread, a vm context).
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)
  ?.get as (this: unknown) => string | undefined;

/**
 * The dtype of `value` when it is a typed array (a Node `Buffer` counts as `uint8`), `undefined` for anything else,
 * a DataView included.
 */
export function dtypeOf(value: unknown): TypedArrayDtype | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  const tag = typedArrayTag.call(value);
  return tag === undefined ? undefined : dtypeByTag.get(tag);
}

/** The constructor for a dtype name read from the wire; `undefined` for a name celeriac does not know. */
export function typedArrayConstructorOf(dtype: unknown): TypedArrayConstructor | undefined {
  return typeof dtype === 'string' && Object.hasOwn(constructors, dtype)
    ? constructors[dtype as TypedArrayDtype]
    : undefined;
}
