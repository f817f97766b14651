import type { GpuKernel } from '@celeriac/core';
import {
  copyIf,
  createGpuExecutor,
  matmul,
  elementwise,
  exclusiveScan,
  genericScan,
  inclusiveScan,
  reduction,
  type GpuArray,
} from '@celeriac/gpu';
import { describe, expectTypeOf, it } from 'vitest';

const executor = createGpuExecutor();
const axpby = elementwise({
  args: { z: 'out f32[]', a: 'f32', x: 'f32[]', b: 'f32', k: 'i32', y: 'i32[]', w: 'out u32[]' },
  operation: 'z[i] = a * x[i] + b * f32(y[i]); w[i] = u32(k)',
});
const dot = reduction({ dtype: 'f32', neutral: '0.0', map: 'x[i] * y[i]', reduce: 'a + b', args: { x: 'f32[]', y: 'f32[]' } });

describe('kernel types derived from args', () => {
  it('takes typed arrays for inputs and numbers for scalars, and returns the outputs by name', () => {
    expectTypeOf(axpby).toExtend<
      GpuKernel<
        { a: number; x: Float32Array | GpuArray<'f32'>; b: number; k: number; y: Int32Array | GpuArray<'i32'> },
        { z: Float32Array; w: Uint32Array }
      >
    >();
    expectTypeOf(executor.run(axpby, { a: 1, x: new Float32Array(1), b: 2, k: 3, y: new Int32Array(1) })).resolves.toEqualTypeOf<{
      z: Float32Array;
      w: Uint32Array;
    }>();
  });

  it('resolves a reduction to a number', () => {
    expectTypeOf(executor.run(dot, { x: new Float32Array(1), y: new Float32Array(1) })).resolves.toEqualTypeOf<number>();
  });

  it('refuses wrong payloads at compile time', () => {
    // @ts-expect-error the wrong typed array for an f32[] input
    void executor.run(dot, { x: new Float64Array(1), y: new Float32Array(1) });
    // @ts-expect-error a missing argument
    void executor.run(dot, { x: new Float32Array(1) });
    // @ts-expect-error a string for a scalar
    void executor.run(axpby, { a: '1', x: new Float32Array(1), b: 2, k: 3, y: new Int32Array(1) });
  });

  it('refuses unsupported dtypes and reduction outputs at compile time', () => {
    // @ts-expect-error f64 is not a supported dtype
    elementwise({ args: { z: 'out f64[]', x: 'f64[]' }, operation: 'z[i] = x[i]' });
    // @ts-expect-error a reduction has no output arrays
    reduction({ dtype: 'f32', neutral: '0.0', map: 'x[i]', reduce: 'a + b', args: { x: 'f32[]', z: 'out f32[]' } });
  });

  it('types scans and copyIf from their dtype and args', () => {
    const cumsum = inclusiveScan({ dtype: 'u32', scan: 'a + b', neutral: '0u', input: 'x[i] * k', args: { x: 'u32[]', k: 'u32' } });
    expectTypeOf(executor.run(cumsum, { x: new Uint32Array(1), k: 2 })).resolves.toEqualTypeOf<Uint32Array>();
    const offsets = exclusiveScan({ dtype: 'f32', scan: 'a + b', neutral: '0.0', input: 'f32(x[i])', args: { x: 'i32[]' } });
    expectTypeOf(executor.run(offsets, { x: new Int32Array(1) })).resolves.toEqualTypeOf<Float32Array>();
    const segmented = genericScan({
      dtype: 'f32',
      args: { x: 'f32[]', flags: 'u32[]', y: 'out f32[]', starts: 'out u32[]' },
      input: 'x[i]',
      scan: 'a + b',
      neutral: '0.0',
      isSegmentStart: 'flags[i] != 0u',
      output: 'y[i] = item; starts[i] = select(0u, 1u, isSegmentStart)',
    });
    expectTypeOf(executor.run(segmented, { x: new Float32Array(1), flags: new Uint32Array(1) })).resolves.toEqualTypeOf<{
      y: Float32Array;
      starts: Uint32Array;
    }>();
    const kept = copyIf({ dtype: 'i32', predicate: 'x[i] > 0', value: 'x[i]', args: { x: 'i32[]' } });
    expectTypeOf(executor.run(kept, { x: new Int32Array(1) })).resolves.toExtend<{ readonly values: Int32Array; readonly count: number }>();
    // @ts-expect-error the wrong typed array for a u32[] input
    void executor.run(cumsum, { x: new Int32Array(1), k: 2 });
    // @ts-expect-error an output of a genericScan is not passed in
    void executor.run(segmented, { x: new Float32Array(1), flags: new Uint32Array(1), y: new Float32Array(1) });
    // @ts-expect-error a scan's result is its own array, not an out argument
    inclusiveScan({ dtype: 'u32', scan: 'a + b', neutral: '0u', input: 'x[i]', args: { x: 'u32[]', y: 'out u32[]' } });
  });

  it('types matmul from its dtype', () => {
    const mm = matmul({ dtype: 'i32' });
    const args = { a: new Int32Array(6), b: new Int32Array(12), rows: 2, inner: 3, cols: 4 };
    expectTypeOf(executor.run(mm, args)).resolves.toEqualTypeOf<Int32Array>();
    // @ts-expect-error the wrong typed array for an i32 matmul
    void executor.run(mm, { ...args, a: new Float32Array(6) });
    // @ts-expect-error a missing size
    void executor.run(mm, { a: args.a, b: args.b, rows: 2, inner: 3 });
  });

  it('types GpuArrays from the uploaded array, and accepts them as kernel inputs of their dtype', async () => {
    const x = await executor.upload(new Float32Array(2));
    expectTypeOf(x).toEqualTypeOf<GpuArray<'f32'>>();
    expectTypeOf(await executor.upload(new Uint32Array(2))).toEqualTypeOf<GpuArray<'u32'>>();
    expectTypeOf(x.download()).resolves.toEqualTypeOf<Float32Array>();
    expectTypeOf(x.add(2)).resolves.toEqualTypeOf<GpuArray<'f32'>>();
    expectTypeOf(x.dot(x)).resolves.toEqualTypeOf<number>();
    expectTypeOf(executor.run(dot, { x, y: new Float32Array(2) })).resolves.toEqualTypeOf<number>();
    const i = await executor.upload(new Int32Array(2));
    // @ts-expect-error arrays of different dtypes do not combine
    void x.add(i);
    // @ts-expect-error an i32 GpuArray for an f32[] input
    void executor.run(dot, { x: i, y: new Float32Array(2) });
    // @ts-expect-error Float64Array cannot be uploaded
    void executor.upload(new Float64Array(2));
  });
});
