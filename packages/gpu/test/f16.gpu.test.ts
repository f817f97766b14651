import { ErrorCode } from '@celeriac/core';
import { createGpuExecutor, elementwise, fromHalfBits, inclusiveScan, matmul, reduction, toHalfBits } from '@celeriac/gpu';
import { afterAll, expect, it } from 'vitest';
import { describeGpu, startGpuTestExecutor } from './gpu-test-support.js';

const { executor, capability } = await startGpuTestExecutor();
const hasF16 = capability.available && capability.features.includes('shader-f16');

/** Small integers and halves: every value and every result below is exact in f16, so results must match exactly. */
function halves(n: number, seed: number): Float32Array {
  return new Float32Array(n).map((_, i) => ((i * 7 + seed) % 17) - 8 + ((i + seed) % 2) * 0.5);
}

const axpy = elementwise({
  name: 'axpy_f16',
  args: { z: 'out f16[]', a: 'f16', x: 'f16[]', y: 'f16[]' },
  operation: 'z[i] = a * x[i] + y[i]',
});
const sum = reduction({ name: 'sum_f16', dtype: 'f16', neutral: '0.0h', map: 'x[i]', reduce: 'a + b', args: { x: 'f16[]' } });
const cumsum = inclusiveScan({ name: 'cumsum_f16', dtype: 'f16', scan: 'a + b', neutral: '0.0h', input: 'x[i]', args: { x: 'f16[]' } });

/** Tests that need shader-f16 on the adapter itself (lavapipe has it). */
const itWithF16 = it.skipIf(!hasF16);

describeGpu('f16 kernels (shader-f16)', capability, () => {
  itWithF16.each([1, 7, 1_001])('runs an f16 elementwise kernel with an f16 scalar over %i elements', async (n) => {
    const [x, y] = [halves(n, 1), halves(n, 2)];
    const { z } = await executor.run(axpy, { a: 1.5, x: toHalfBits(x), y: toHalfBits(y) });
    expect(z).toBeInstanceOf(Uint16Array);
    expect(fromHalfBits(z)).toEqual(x.map((v, i) => 1.5 * v + (y[i] as number)));
  });

  itWithF16.each([1, 255, 257, 1_001, 65_537])('sums and scans f16 over %i elements (odd partial counts included)', async (n) => {
    const ones = toHalfBits(new Float32Array(n).map((_, i) => i % 2)); // sums stay below 2048 only for small n
    const expected = Math.floor(n / 2);
    if (n <= 4_096) await expect(executor.run(sum, { x: ones })).resolves.toBe(expected);
    const scanned = fromHalfBits(await executor.run(cumsum, { x: ones.subarray(0, Math.min(n, 2_047)) }));
    expect(scanned.at(-1)).toBe(Math.floor(Math.min(n, 2_047) / 2));
  });

  itWithF16('multiplies f16 matrices and computes with f16 GpuArrays', async () => {
    const a = toHalfBits(new Float32Array([1, 2, 3, 4, 5, 6]));
    const b = toHalfBits(new Float32Array([1, 0.5, -1, 2, 0, 1]));
    const c = await executor.run(matmul({ dtype: 'f16' }), { a, b, rows: 2, inner: 3, cols: 2 });
    expect(fromHalfBits(c)).toEqual(new Float32Array([-1, 7.5, -1, 18]));
    const x = await executor.upload(toHalfBits(halves(5, 3)));
    expect(x.dtype).toBe('f16');
    const doubled = await x.mul(2);
    expect(fromHalfBits(await doubled.download())).toEqual(halves(5, 3).map((v) => 2 * v));
    await expect(doubled.sum()).resolves.toBe(halves(5, 3).reduce((s, v) => s + 2 * v, 0));
    await expect(x.max()).resolves.toBe(Math.max(...halves(5, 3)));
    await Promise.all([x.release(), doubled.release()]);
  });

  it('refuses f16 kernels with CELERIAC_GPU_UNAVAILABLE naming shader-f16 where the device lacks it', async () => {
    const withoutF16 = createGpuExecutor({ disabledFeatures: ['shader-f16'] });
    afterAll(() => withoutF16.close());
    await expect(withoutF16.run(axpy, { a: 1, x: new Uint16Array(2), y: new Uint16Array(2) })).rejects.toMatchObject({
      code: ErrorCode.GpuUnavailable,
      retryable: false,
      message: expect.stringContaining(`Kernel "axpy_f16" needs the WebGPU feature 'shader-f16'`),
      details: { missingFeatures: ['shader-f16'] },
    });
    const f32 = elementwise({ args: { z: 'out f32[]', x: 'f32[]' }, operation: 'z[i] = x[i] * 2.0' });
    await expect(withoutF16.run(f32, { x: new Float32Array([1]) })).resolves.toEqual({ z: new Float32Array([2]) });
  });
});
