import { CeleriacError } from '../errors/celeriac-error.js';
import { ErrorCode } from '../errors/error-catalogue.js';
import { dtypeOf, typedArrayConstructorOf, type AnyTypedArray, type TypedArrayDtype } from './typed-array-dtype.js';

/** The key that marks a packed value: `{ "$celeriac.binary": { v, bytes, id }, value }`. */
export const binaryPayloadKey = '$celeriac.binary';
/** The key that marks where a typed array was: `{ "$celeriac.array": dtype, offset, length }`. */
export const binaryArrayKey = '$celeriac.array';
/** The default largest blob one job's input (or result) may carry: 64 MiB. */
export const defaultMaxPayloadBytes = 64 * 1024 * 1024;

/** The blob's first bytes: a magic number, so a blob that is not one (overwritten, truncated) is told apart. */
const magic = [0x43, 0x58, 0x42, 0x31] as const; // "CXB1"
/** Header size, and the alignment of every array in the blob (the largest element is 8 bytes). */
const align = 8;
/** How deep the walk looks for typed arrays; deeper ones are left to JSON (inputs are not that deep). */
const maxDepth = 256;

/**
 * A value whose typed arrays were taken out into a blob: `value` is plain JSON with a ref where each array was, and
 * `bytes` is the blob's size. `id` names this blob (and where it is staged before its job exists).
 */
export interface BinaryPayload {
  readonly [binaryPayloadKey]: { readonly v: 1; readonly bytes: number; readonly id: string };
  readonly value: unknown;
}

/** What {@link encodeBinaryPayload} makes: the value to store as JSON, and the blob to store beside it, if any. */
export interface EncodedPayload {
  /** The value itself when it holds no typed array; otherwise a {@link BinaryPayload}. */
  readonly value: unknown;
  readonly blob?: Uint8Array;
}

/** Options of {@link encodeBinaryPayload}. */
export interface EncodePayloadOptions {
  /** The largest blob allowed, in bytes. */
  readonly maxBytes: number;
  /** What is being encoded, for the error message (`the input of job "42"`). */
  readonly what: string;
  /** Makes a unique id for the blob (a UUID): it names the blob wherever it is stored. Called only if there is one. */
  readonly newId: () => string;
}

interface Ref {
  readonly [binaryArrayKey]: TypedArrayDtype;
  readonly offset: number;
  readonly length: number;
}

/**
 * Takes the typed arrays out of a value (found in plain objects and arrays) so they can be stored as one binary
 * blob instead of JSON number arrays. A value without typed arrays comes back as it is, at the cost of one walk.
 *
 * @throws CeleriacError `CELERIAC_PAYLOAD_TOO_LARGE` when the arrays add up to more than `maxBytes` (checked before
 *   anything is copied)
 */
export function encodeBinaryPayload(value: unknown, options: EncodePayloadOptions): EncodedPayload {
  const arrays: { array: AnyTypedArray; offset: number }[] = [];
  let end = align;
  const replace = (array: AnyTypedArray, dtype: TypedArrayDtype): Ref => {
    const offset = end;
    end = offset + Math.ceil(array.byteLength / align) * align;
    arrays.push({ array, offset });
    return { [binaryArrayKey]: dtype, offset, length: array.length };
  };
  const packed = walk(value, 0, (found) => {
    const dtype = dtypeOf(found);
    return dtype === undefined ? undefined : replace(found as AnyTypedArray, dtype);
  });
  if (arrays.length === 0) return { value };
  if (end > options.maxBytes) {
    throw new CeleriacError(
      ErrorCode.PayloadTooLarge,
      `The typed arrays in ${options.what} add up to ${end} bytes, over the limit of ${options.maxBytes} bytes ` +
        '(maxPayloadBytes). Store the data elsewhere and pass a reference (an object-store key), split the work ' +
        'into smaller jobs, or raise maxPayloadBytes on the client and the worker if Redis has the memory for it.',
      { details: { bytes: end, maxBytes: options.maxBytes } },
    );
  }
  const blob = new Uint8Array(end);
  blob.set(magic, 0);
  for (const { array, offset } of arrays) blob.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
  const payload: BinaryPayload = { [binaryPayloadKey]: { v: 1, bytes: end, id: options.newId() }, value: packed };
  return { value: payload, blob };
}

/** Whether `value` is a {@link BinaryPayload} (its typed arrays are in a blob that must be read to decode it). */
export function isBinaryPayload(value: unknown): value is BinaryPayload {
  if (typeof value !== 'object' || value === null || !(binaryPayloadKey in value) || !('value' in value)) return false;
  const header = (value as Record<string, unknown>)[binaryPayloadKey] as Record<string, unknown> | null;
  return (
    typeof header === 'object' &&
    header !== null &&
    header['v'] === 1 &&
    Number.isSafeInteger(header['bytes']) &&
    typeof header['id'] === 'string'
  );
}

/**
 * Puts the typed arrays of a {@link BinaryPayload} back from its blob. Each array is a fresh copy that owns its
 * buffer, so it can be transferred to a worker thread. Everything is checked: the blob was read back from Redis.
 *
 * @param what what is being decoded, for the error message (`the input of job "42"`)
 * @throws CeleriacError `CELERIAC_JOB_DATA_CORRUPT` when the blob is missing, is not a celeriac blob, has the wrong
 *   size, or a ref points outside it
 */
export function decodeBinaryPayload(payload: BinaryPayload, blob: Uint8Array | undefined, what: string): unknown {
  const { bytes, id } = payload[binaryPayloadKey];
  const corrupt = (reason: string): CeleriacError =>
    new CeleriacError(
      ErrorCode.JobDataCorrupt,
      `The binary data of ${what} (blob ${id}) ${reason}. It was removed or overwritten outside celeriac; ` +
        'enqueue the job again.',
      { details: { blob: id, bytes, reason } },
    );
  if (blob === undefined) throw corrupt('is missing from Redis');
  if (blob.byteLength !== bytes) throw corrupt(`is ${blob.byteLength} bytes instead of ${bytes}`);
  if (magic.some((byte, index) => blob[index] !== byte)) throw corrupt('does not start with the celeriac blob header');
  return walk(payload.value, 0, undefined, (ref) => {
    const { [binaryArrayKey]: dtype, offset, length } = ref as Partial<Ref>;
    const Ctor = typedArrayConstructorOf(dtype);
    if (!Ctor || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset! < align || length! < 0) {
      throw corrupt(`has a malformed ref ${JSON.stringify(ref)}`);
    }
    const byteLength = length! * (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    // Checked before allocating: a corrupt length must not ask for gigabytes.
    if (offset! % align !== 0 || offset! + byteLength > bytes) {
      throw corrupt(`has a ref outside the blob ${JSON.stringify(ref)}`);
    }
    const array = new Ctor(length!);
    new Uint8Array(array.buffer).set(blob.subarray(offset!, offset! + byteLength));
    return array;
  });
}

/**
 * Rebuilds plain objects and arrays, calling `onView` for each ArrayBuffer view (encoding) or `onRef` for each ref
 * object (decoding); a callback's `undefined` keeps the value. Unchanged branches are returned as they are.
 */
function walk(
  value: unknown,
  depth: number,
  onView?: (view: ArrayBufferView) => unknown,
  onRef?: (ref: object) => unknown,
): unknown {
  if (typeof value !== 'object' || value === null || depth > maxDepth) return value;
  if (ArrayBuffer.isView(value)) return onView?.(value) ?? value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item: unknown, index) => {
      const next = walk(item, depth + 1, onView, onRef);
      if (next !== item) (out ??= value.slice())[index] = next;
    });
    return out ?? value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  if (onRef && binaryArrayKey in value) return onRef(value);
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const next = walk(item, depth + 1, onView, onRef);
    if (next !== item) (out ??= { ...value })[key] = next;
  }
  return out ?? value;
}
