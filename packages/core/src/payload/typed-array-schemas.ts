import { z } from 'zod';
import { TypedArrayDtype, dtypeOf } from './typed-array-dtype.js';

/**
 * The JSON Schema keyword that marks a base64 string as a typed array of one dtype. The API reads it to turn a
 * submitted string into the typed array the task expects; HTTP clients read it to decode a result.
 */
export const typedArrayDtypeKey = 'x-celeriac-dtype';

/** A zod schema that accepts exactly one kind of typed array; see {@link f32Array}. */
export type TypedArraySchema<T> = z.ZodType<T, T>;

/**
 * Builds the schema of one dtype. It is a `z.custom` (zod has no typed-array type) whose metadata gives
 * `z.toJSONSchema` the HTTP form: a base64 string of the array's little-endian bytes, annotated with its dtype.
 */
function typedArraySchema<T>(dtype: TypedArrayDtype, typeName: string): TypedArraySchema<T> {
  return z
    .custom<T>((value) => dtypeOf(value) === dtype, { error: `expected a ${typeName}` })
    .meta({
      type: 'string',
      contentEncoding: 'base64',
      [typedArrayDtypeKey]: dtype,
      description: `A ${typeName}: over HTTP, the base64 of its little-endian bytes.`,
    });
}

/**
 * A `Float32Array` field of a task's input or output. Typed arrays travel as binary beside the job (never as JSON
 * number arrays), and over HTTP as base64 strings.
 *
 * @example
 * ```ts
 * const scale = defineTask({
 *   name: 'scale',
 *   input: z.object({ values: f32Array(), factor: z.number() }),
 *   output: f32Array(),
 *   handler: ({ values, factor }) => values.map((v) => v * factor),
 * });
 * ```
 */
export function f32Array(): TypedArraySchema<Float32Array> {
  return typedArraySchema(TypedArrayDtype.Float32, 'Float32Array');
}

/** A `Float64Array` field; see {@link f32Array}. */
export function f64Array(): TypedArraySchema<Float64Array> {
  return typedArraySchema(TypedArrayDtype.Float64, 'Float64Array');
}

/** An `Int32Array` field; see {@link f32Array}. */
export function i32Array(): TypedArraySchema<Int32Array> {
  return typedArraySchema(TypedArrayDtype.Int32, 'Int32Array');
}

/** A `Uint32Array` field; see {@link f32Array}. */
export function u32Array(): TypedArraySchema<Uint32Array> {
  return typedArraySchema(TypedArrayDtype.Uint32, 'Uint32Array');
}

/** A `Uint8Array` field (a Node `Buffer` is accepted; a `Uint8Array` comes back); see {@link f32Array}. */
export function u8Array(): TypedArraySchema<Uint8Array> {
  return typedArraySchema(TypedArrayDtype.Uint8, 'Uint8Array');
}

/** Raw bytes: the same as {@link u8Array}, under the name that reads better for files and images. */
export const bytes = u8Array;
