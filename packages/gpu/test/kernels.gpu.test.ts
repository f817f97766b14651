import { elementwise, reduction } from '@celeriac/gpu';
import { expect, it } from 'vitest';
import { describeGpu, startGpuTestExecutor } from './gpu-test-support.js';
import { hashedI32, hashedU32, mismatches, mixedF32, sizes } from './reference-data.js';

const { executor, capability } = await startGpuTestExecutor();

const axpby = elementwise({
  name: 'axpby',
  args: { z: 'out f32[]', a: 'f32', x: 'f32[]', b: 'f32', y: 'f32[]' },
  operation: 'z[i] = a * x[i] + b * y[i]',
});
const add = elementwise({ name: 'add', args: { z: 'out f32[]', x: 'f32[]', y: 'f32[]' }, operation: 'z[i] = x[i] + y[i]' });
const affineI32 = elementwise({
  name: 'affine_i32',
  args: { z: 'out i32[]', w: 'out u32[]', x: 'i32[]', k: 'i32', c: 'i32', m: 'u32' },
  operation: 'z[i] = x[i] * k + c; w[i] = bitcast<u32>(x[i]) & m',
});
const dot = reduction({ name: 'dot', dtype: 'f32', neutral: '0.0', map: 'x[i] * y[i]', reduce: 'a + b', args: { x: 'f32[]', y: 'f32[]' } });
const maxI32 = reduction({ name: 'max_i32', dtype: 'i32', neutral: '-2147483648', map: 'x[i]', reduce: 'max(a, b)', args: { x: 'i32[]' } });
const sumU32 = reduction({ name: 'sum_u32', dtype: 'u32', neutral: '0u', map: 'x[i]', reduce: 'a + b', args: { x: 'u32[]' } });

describeGpu('elementwise kernels on the GPU', capability, () => {
  it.each(sizes)('z = a*x + b*y matches a JS reference for n = %i', async (n) => {
    const [a, b, x, y] = [1.5, -0.25, mixedF32(n, 1), mixedF32(n, 2)];
    const { z } = await executor.run(axpby, { a, x, b, y });
    expect(z).toBeInstanceOf(Float32Array);
    expect(z).toHaveLength(n);
    // Reference: both products and the sum rounded to f32, as the WGSL reads. The compiler may contract a*x + b*y
    // into a fused multiply-add (WGSL allows it; GPUs do it), which skips one rounding: the two evaluations then
    // differ by at most 2 * 2^-24 * (|a*x| + |b*y|), which under cancellation can be many ulps of the result but
    // never more than that. Without contraction (lavapipe) the results are equal.
    const product = (i: number): number => Math.abs(a * (x[i] as number)) + Math.abs(b * (y[i] as number));
    const want = (i: number): number => Math.fround(Math.fround(a * (x[i] as number)) + Math.fround(b * (y[i] as number)));
    expect(mismatches(z, want, (i) => 2 ** -23 * product(i))).toEqual([]);
  });

  it.each(sizes)('z = x + y matches Math.fround(x + y) exactly for n = %i', async (n) => {
    const [x, y] = [mixedF32(n, 3), mixedF32(n, 4)];
    const { z } = await executor.run(add, { x, y });
    // f32 addition is correctly rounded in WGSL, so there is exactly one right answer.
    expect(mismatches(z, (i) => Math.fround((x[i] as number) + (y[i] as number)), () => 0)).toEqual([]);
  });

  it.each(sizes)('runs z = x + y for range(n/3, n - n/5, 3) only, leaving the other elements 0, for n = %i', async (n) => {
    const [x, y] = [mixedF32(n, 3), mixedF32(n, 4)];
    const [start, stop, step] = [Math.floor(n / 3), n - Math.floor(n / 5), 3];
    const { z } = await executor.run(add, { x, y }, { range: { start, stop, step } });
    expect(z).toHaveLength(n);
    const inRange = (i: number): boolean => i >= start && i < stop && (i - start) % step === 0;
    expect(mismatches(z, (i) => (inRange(i) ? Math.fround((x[i] as number) + (y[i] as number)) : 0), () => 0)).toEqual([]);
  });

  it('treats an empty range as no element, and a range of defaults as every element', async () => {
    const [x, y] = [mixedF32(1000, 3), mixedF32(1000, 4)];
    const { z: none } = await executor.run(add, { x, y }, { range: { start: 500, stop: 500 } });
    expect(none).toEqual(new Float32Array(1000));
    const { z: all } = await executor.run(add, { x, y }, { range: {} });
    expect(all).toEqual((await executor.run(add, { x, y })).z);
  });

  it.each([0, 1, 257, 65_537])('i32 and u32 outputs wrap like two’s complement for n = %i', async (n) => {
    const [x, k, c, m] = [hashedI32(n, 5), -7, 123_456, 0xff00ff00];
    const { z, w } = await executor.run(affineI32, { x, k, c, m });
    expect(z).toBeInstanceOf(Int32Array);
    expect(w).toBeInstanceOf(Uint32Array);
    expect(mismatches(z, (i) => (Math.imul(x[i] as number, k) + c) | 0, () => 0)).toEqual([]);
    expect(mismatches(w, (i) => ((x[i] as number) & m) >>> 0, () => 0)).toEqual([]);
  });
});

describeGpu('reductions on the GPU', capability, () => {
  it.each(sizes)('the f32 dot product is within its error bound of a float64 reference for n = %i', async (n) => {
    const [x, y] = [mixedF32(n, 6), mixedF32(n, 7)];
    let exact = 0;
    let magnitude = 0;
    for (let i = 0; i < n; i++) {
      const term = (x[i] as number) * (y[i] as number); // exact in float64: two 24-bit significands
      exact += term;
      magnitude += Math.abs(term);
    }
    const result = await executor.run(dot, { x, y });
    // Each term passes through at most ~40 f32 roundings: the product, a grid-stride loop of at most
    // ceil(n / (1024 * 256)) = 17 additions, 8 tree levels, 4 loop additions and 8 tree levels in the second pass.
    // The classic bound is then |error| <= 40 * 2^-24 * sum|x*y| ≈ 2.4e-6 * sum|x*y|; 1e-5 leaves a 4x margin. The
    // bound is relative to sum|x*y|, not to the result, because mixed signs cancel.
    expect(Math.abs(result - exact)).toBeLessThanOrEqual(1e-5 * magnitude);
  });

  it.each(sizes)('the i32 max is exact for n = %i', async (n) => {
    const x = hashedI32(n, 8);
    let want = -(2 ** 31);
    for (const value of x) want = Math.max(want, value);
    await expect(executor.run(maxI32, { x })).resolves.toBe(want);
  });

  it.each([1, 257, 2 ** 22 + 3])('the u32 sum wraps modulo 2^32 for n = %i', async (n) => {
    const x = hashedU32(n, 9);
    let want = 0;
    for (const value of x) want = (want + value) >>> 0;
    await expect(executor.run(sumU32, { x })).resolves.toBe(want);
  });

  it('gives the neutral element, as the kernel evaluates it, for empty input', async () => {
    await expect(executor.run(dot, { x: new Float32Array(0), y: new Float32Array(0) })).resolves.toBe(0);
    await expect(executor.run(maxI32, { x: new Int32Array(0) })).resolves.toBe(-(2 ** 31));
  });
});
