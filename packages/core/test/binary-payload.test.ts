import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ErrorCode,
  binaryPayloadKey,
  decodeBinaryPayload,
  defineTask,
  encodeBinaryPayload,
  f32Array,
  i32Array,
  isBinaryPayload,
  isCeleriacError,
  toCatalogueEntry,
  u8Array,
  type BinaryPayload,
} from '@celeriac/core';

const options = { maxBytes: 1024 * 1024, what: 'the input of job "t"', newId: () => 'blob-1' };

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

describe('encodeBinaryPayload / decodeBinaryPayload', () => {
  it('takes typed arrays out of objects and arrays into one blob, and puts fresh copies back', () => {
    const values = Float32Array.of(1.5, -2, 3);
    // A view over part of a larger buffer, at an odd offset: only its own bytes travel.
    const ids = new Int32Array(new ArrayBuffer(64), 4, 3).fill(7);
    const input = { values, nested: [{ ids }, 'text'], n: 1 };
    const { value, blob } = encodeBinaryPayload(input, options);

    expect(isBinaryPayload(value)).toBe(true);
    // The JSON form holds refs, never the numbers.
    const json = JSON.stringify(value);
    expect(json).not.toContain('1.5');
    expect(JSON.parse(json)).toEqual({
      [binaryPayloadKey]: { v: 1, bytes: 40, id: 'blob-1' },
      value: {
        values: { '$celeriac.array': 'float32', offset: 8, length: 3 },
        nested: [{ ids: { '$celeriac.array': 'int32', offset: 24, length: 3 } }, 'text'],
        n: 1,
      },
    });
    expect(blob?.byteLength).toBe(40);

    const decoded = decodeBinaryPayload(JSON.parse(json) as BinaryPayload, blob, 'x') as typeof input;
    expect(decoded.values).toBeInstanceOf(Float32Array);
    expect([...decoded.values]).toEqual([1.5, -2, 3]);
    expect(decoded.nested[0]).toEqual({ ids: Int32Array.of(7, 7, 7) });
    // Each decoded array owns its whole buffer, so it can be transferred to a worker thread.
    expect(decoded.values.buffer.byteLength).toBe(decoded.values.byteLength);
    // The caller's value is never changed.
    expect(input.values).toBe(values);
  });

  it('returns a value without typed arrays as it is', () => {
    const input = { x: [1, 2, 3], y: { z: 'a' } };
    const encoded = encodeBinaryPayload(input, options);
    expect(encoded.value).toBe(input);
    expect(encoded.blob).toBeUndefined();
  });

  it('refuses arrays past maxBytes with CELERIAC_PAYLOAD_TOO_LARGE, before copying anything', () => {
    const error = errorOf(() => encodeBinaryPayload({ big: new Float64Array(200) }, { ...options, maxBytes: 1000 }));
    expect(isCeleriacError(error, ErrorCode.PayloadTooLarge)).toBe(true);
    expect((error as Error).message).toContain('1608 bytes, over the limit of 1000 bytes (maxPayloadBytes)');
  });

  it('reports a missing, resized, foreign or out-of-range blob as CELERIAC_JOB_DATA_CORRUPT', () => {
    const { value, blob } = encodeBinaryPayload({ a: Uint8Array.of(1, 2, 3) }, options);
    const payload = value as BinaryPayload;
    const reasonOf = (run: () => unknown): string => {
      const error = errorOf(run);
      expect(isCeleriacError(error, ErrorCode.JobDataCorrupt)).toBe(true);
      return (error as { details: { reason: string } }).details.reason;
    };
    expect(reasonOf(() => decodeBinaryPayload(payload, undefined, 'x'))).toBe('is missing from Redis');
    expect(reasonOf(() => decodeBinaryPayload(payload, blob!.subarray(0, 8), 'x'))).toContain('is 8 bytes instead of 16');
    expect(reasonOf(() => decodeBinaryPayload(payload, new Uint8Array(16), 'x'))).toContain('header');
    const huge = { ...payload, value: { a: { '$celeriac.array': 'uint8', offset: 8, length: 2 ** 40 } } };
    expect(reasonOf(() => decodeBinaryPayload(huge, blob, 'x'))).toContain('outside the blob');
    const unknown = { ...payload, value: { a: { '$celeriac.array': 'float16', offset: 8, length: 1 } } };
    expect(reasonOf(() => decodeBinaryPayload(unknown, blob, 'x'))).toContain('malformed ref');
  });
});

describe('typed-array schemas', () => {
  it('accept only their own typed array, including arrays from another realm by tag', () => {
    expect(f32Array().safeParse(new Float32Array(2)).success).toBe(true);
    expect(f32Array().safeParse([1, 2]).success).toBe(false);
    expect(f32Array().safeParse(new Float64Array(2)).success).toBe(false);
    expect(u8Array().safeParse(Buffer.from('hi')).success).toBe(true);
    expect(i32Array().safeParse(new Int32Array(1)).error?.issues[0]?.message).toBeUndefined();
    expect(i32Array().safeParse('AAAA').error?.issues[0]?.message).toBe('expected a Int32Array');
  });

  it('publish a base64 string annotated with its dtype in the catalogue JSON Schema', () => {
    const task = defineTask({
      name: 'scale',
      input: z.object({ values: f32Array(), mask: u8Array().optional() }),
      output: f32Array(),
      handler: ({ values }) => values,
    });
    const entry = toCatalogueEntry(task);
    expect(entry.inputSchema).toMatchObject({
      properties: {
        values: { type: 'string', contentEncoding: 'base64', 'x-celeriac-dtype': 'float32' },
        mask: { type: 'string', contentEncoding: 'base64', 'x-celeriac-dtype': 'uint8' },
      },
      required: ['values'],
    });
    expect(entry.outputSchema).toMatchObject({ type: 'string', 'x-celeriac-dtype': 'float32' });
  });
});
