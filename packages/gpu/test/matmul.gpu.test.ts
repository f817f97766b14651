import { matmul } from '@celeriac/gpu';
import { expect, it } from 'vitest';
import { describeGpu, startGpuTestExecutor } from './gpu-test-support.js';
import { hashedI32, mismatches, mixedF32 } from './reference-data.js';

const { executor, capability } = await startGpuTestExecutor();

const matmulF32 = matmul({ dtype: 'f32' });
const matmulI32 = matmul({ name: 'matmul_i32', dtype: 'i32' });

/** `rows x inner` by `inner x cols` in float64 (exact for the small integers used), with sum |a||b| per element. */
function referenceProduct(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, inner: number, cols: number) {
  const [product, magnitude] = [new Float64Array(rows * cols), new Float64Array(rows * cols)];
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < inner; k++) {
      const av = a[r * inner + k] as number;
      for (let c = 0; c < cols; c++) {
        const term = av * (b[k * cols + c] as number);
        product[r * cols + c] = (product[r * cols + c] as number) + term;
        magnitude[r * cols + c] = (magnitude[r * cols + c] as number) + Math.abs(term);
      }
    }
  }
  return { product, magnitude };
}

/** Small integers in [-4, 4] as floats: every product and sum below is exact in f32, so results must match exactly. */
function smallIntegersF32(length: number, seed: number): Float32Array {
  return Float32Array.from(hashedI32(length, seed), (v) => (v >>> 0) % 9 - 4);
}

describeGpu('tiled matmul on the GPU', capability, () => {
  it.each([
    [1, 1, 1],
    [1, 7, 1],
    [16, 16, 16],
    [15, 17, 33],
    [255, 3, 257],
    [256, 31, 256],
    [3, 257, 5],
    [65_537, 3, 64], // 65536 + 1 rows, past a single row of 4096 tiles; 2^22 + 64 output elements
  ])('the f32 product of %i x %i by %i is exact on small integers', async (rows, inner, cols) => {
    const [a, b] = [smallIntegersF32(rows * inner, 1), smallIntegersF32(inner * cols, 2)];
    const c = await executor.run(matmulF32, { a, b, rows, inner, cols });
    expect(c).toBeInstanceOf(Float32Array);
    expect(c).toHaveLength(rows * cols);
    const { product } = referenceProduct(a, b, rows, inner, cols);
    expect(mismatches(c, (i) => product[i] as number, () => 0)).toEqual([]);
  }, 60_000);

  it('the f32 product of fractional values is within its rounding bound', async () => {
    const [rows, inner, cols] = [33, 129, 47];
    const [a, b] = [mixedF32(rows * inner, 3), mixedF32(inner * cols, 4)];
    const c = await executor.run(matmulF32, { a, b, rows, inner, cols });
    const { product, magnitude } = referenceProduct(a, b, rows, inner, cols);
    // A sequential sum of `inner` f32 products: at most inner + 1 roundings of at most 2^-24 * sum |a||b| each.
    expect(mismatches(c, (i) => product[i] as number, (i) => (inner + 1) * 2 ** -24 * (magnitude[i] as number))).toEqual([]);
  });

  it.each([
    [0, 3, 2],
    [2, 0, 3],
    [2, 3, 0],
  ])('handles empty dimensions: %i x %i by %i', async (rows, inner, cols) => {
    const c = await executor.run(matmulF32, {
      a: new Float32Array(rows * inner),
      b: new Float32Array(inner * cols),
      rows,
      inner,
      cols,
    });
    // An empty inner dimension is a sum of nothing: zeros.
    expect(c).toEqual(new Float32Array(rows * cols));
  });

  it('wraps i32 products like two’s complement', async () => {
    const [rows, inner, cols] = [19, 21, 23];
    const [a, b] = [hashedI32(rows * inner, 5), hashedI32(inner * cols, 6)];
    const c = await executor.run(matmulI32, { a, b, rows, inner, cols });
    expect(c).toBeInstanceOf(Int32Array);
    const want = (i: number): number => {
      const [r, col] = [Math.floor(i / cols), i % cols];
      let sum = 0;
      for (let k = 0; k < inner; k++) sum = (sum + Math.imul(a[r * inner + k] as number, b[k * cols + col] as number)) | 0;
      return sum;
    };
    expect(mismatches(c, want, () => 0)).toEqual([]);
  });
});
