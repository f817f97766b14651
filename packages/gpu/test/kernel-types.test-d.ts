import type { GpuKernel } from '@celeriac/core';
import { createGpuExecutor, elementwise, reduction } from '@celeriac/gpu';
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
      GpuKernel<{ a: number; x: Float32Array; b: number; k: number; y: Int32Array }, { z: Float32Array; w: Uint32Array }>
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
});
