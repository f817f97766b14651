import { elementwise, inclusiveScan, matmul, reduction, type GpuExecutor } from '@celeriac/gpu';
import { sampleIndexes } from './sample-indexes.js';

/** One kernel call, ready to run: its inputs are filled, and its check knows what the result must be. */
export interface PreparedCall {
  /**
   * Runs the kernel and resolves with a function that checks its result, so the timed section holds the call alone.
   * The check throws when the result is wrong: a broken kernel must not report a fast figure.
   */
  execute(executor: GpuExecutor): Promise<() => void>;
}

/** What a kernel does per call, for the throughput figure. */
export type KernelWork =
  /** Bytes the kernel must at least read and write: GB/s = bytes / GPU time. */
  | { readonly unit: 'GB/s'; readonly bytes: number }
  /** Floating-point operations (2·side³ for a product of square matrices): GFLOP/s = flops / GPU time. */
  | { readonly unit: 'GFLOP/s'; readonly flops: number };

/** One kernel of the throughput table: how to size, prepare and count a call on `n` elements. */
export interface KernelCase {
  readonly name: string;
  /** The kernel's own name, under which `executor.stats().kernelTimings` records its GPU time. */
  readonly kernelName: string;
  /** How the minimal work is counted, for the note under the table. */
  readonly counting: string;
  /** The largest single buffer of a call, in bytes, checked against the device's binding and buffer limits. */
  largestBufferBytes(n: number): number;
  work(n: number): KernelWork;
  prepare(n: number): PreparedCall;
}

const copyKernel = elementwise({ name: 'bench_copy', args: { z: 'out f32[]', x: 'f32[]' }, operation: 'z[i] = x[i]' });
const axpbyKernel = elementwise({
  name: 'bench_axpby',
  args: { z: 'out f32[]', a: 'f32', x: 'f32[]', b: 'f32', y: 'f32[]' },
  operation: 'z[i] = a * x[i] + b * y[i]',
});
const sumKernel = reduction({
  name: 'bench_sum',
  dtype: 'f32',
  neutral: '0.0',
  map: 'x[i]',
  reduce: 'a + b',
  args: { x: 'f32[]' },
});
const cumsumKernel = inclusiveScan({
  name: 'bench_cumsum',
  dtype: 'u32',
  scan: 'a + b',
  neutral: '0u',
  input: 'x[i]',
  args: { x: 'u32[]' },
});
const matmulKernel = matmul({ name: 'bench_matmul', dtype: 'f32' });

/** The side of the square matrices that hold about `n` elements each. */
export function matrixSide(n: number): number {
  return Math.round(Math.sqrt(n));
}

/** `z[i] = x[i]`: the device's copy bandwidth, which every other kernel's GB/s is divided by. */
export const copyCase: KernelCase = {
  name: 'copy',
  kernelName: copyKernel.spec.name,
  counting: 'copy 8n (read x, write z)',
  largestBufferBytes: (n) => 4 * n,
  work: (n) => ({ unit: 'GB/s', bytes: 8 * n }),
  prepare(n) {
    const x = fillF32(n, 0);
    const xSum = sumOf(x);
    return {
      async execute(executor) {
        const { z } = await executor.run(copyKernel, { x });
        return () => {
          expectSamples('copy', z, n, (i) => x[i] ?? Number.NaN, 0);
          expectClose('copy sum', sumOf(z), xSum, 0);
        };
      },
    };
  },
};

/** `z = a·x + b·y` over f32. */
export const elementwiseCase: KernelCase = {
  name: 'elementwise',
  kernelName: axpbyKernel.spec.name,
  counting: 'elementwise 12n (read x and y, write z)',
  largestBufferBytes: (n) => 4 * n,
  work: (n) => ({ unit: 'GB/s', bytes: 12 * n }),
  prepare(n) {
    const [a, b, x, y] = [2, 0.5, fillF32(n, 0), fillF32(n, 1)];
    // The map is linear, so the sum of z follows from the sums of x and y: one pass checks every element a little.
    const zSum = a * sumOf(x) + b * sumOf(y);
    return {
      async execute(executor) {
        const { z } = await executor.run(axpbyKernel, { a, x, b, y });
        return () => {
          // The GPU may fuse a·x + b·y into one FMA, so the last bit can differ from JS's rounding.
          expectSamples('elementwise', z, n, (i) => a * (x[i] ?? 0) + b * (y[i] ?? 0), 1e-5);
          expectClose('elementwise sum', sumOf(z), zSum, 1e-6);
        };
      },
    };
  },
};

/** The sum of f32 values: a reduction that reads every element once and writes one value. */
export const reduceCase: KernelCase = {
  name: 'reduce',
  kernelName: sumKernel.spec.name,
  counting: 'reduce 4n (read x once)',
  largestBufferBytes: (n) => 4 * n,
  work: (n) => ({ unit: 'GB/s', bytes: 4 * n }),
  prepare(n) {
    const x = fillF32(n, 0);
    const expected = sumOf(x);
    return {
      async execute(executor) {
        const sum = await executor.run(sumKernel, { x });
        // Summation order differs (tree vs loop); 1e-4 is far tighter than any kernel that drops or repeats a block.
        return () => expectClose('reduce sum', sum, expected, 1e-4);
      },
    };
  },
};

/** The inclusive prefix sum of u32 values; exact, so the check is exact. */
export const scanCase: KernelCase = {
  name: 'scan',
  kernelName: cumsumKernel.spec.name,
  counting: 'scan 8n (read x once, write the prefix sums; the three-pass scan reads x twice)',
  largestBufferBytes: (n) => 4 * n,
  work: (n) => ({ unit: 'GB/s', bytes: 8 * n }),
  prepare(n) {
    const x = new Uint32Array(n);
    for (let i = 0; i < n; i++) x[i] = i % 7;
    // Σ_{j ≤ i} (j mod 7): 21 per full cycle of 7, plus 0 + 1 + … + (r − 1) for the r values of the last one.
    const prefix = (i: number): number => {
      const count = i + 1;
      const r = count % 7;
      return (Math.floor(count / 7) * 21 + (r * (r - 1)) / 2) >>> 0;
    };
    return {
      async execute(executor) {
        const sums = await executor.run(cumsumKernel, { x });
        return () => expectSamples('scan', sums, n, prefix, 0);
      },
    };
  },
};

/** The product of two square f32 matrices of `n` elements each (side √n), with the tiled shared-memory kernel. */
export const matmulCase: KernelCase = {
  name: 'matmul',
  kernelName: matmulKernel.spec.name,
  counting: 'matmul 2·side³ floating-point operations',
  largestBufferBytes: (n) => 4 * matrixSide(n) ** 2,
  work: (n) => ({ unit: 'GFLOP/s', flops: 2 * matrixSide(n) ** 3 }),
  prepare(n) {
    const side = matrixSide(n);
    const a = fillF32(side * side, 0);
    const b = fillF32(side * side, 1);
    const expected = (index: number): number => {
      const [row, col] = [Math.floor(index / side), index % side];
      let dot = 0;
      for (let k = 0; k < side; k++) dot += (a[row * side + k] ?? 0) * (b[k * side + col] ?? 0);
      return dot;
    };
    return {
      async execute(executor) {
        const c = await executor.run(matmulKernel, { a, b, rows: side, inner: side, cols: side });
        // f32 accumulation over `side` products drifts from the double reference by up to ~1e-4 at side 8192.
        return () => expectSamples('matmul', c, side * side, expected, 1e-3);
      },
    };
  },
};

/** The kernels measured against the copy, in table order. */
export const measuredCases: readonly KernelCase[] = [reduceCase, scanCase, elementwiseCase, matmulCase];

/**
 * Deterministic values in [0.125, 1.125): positive, so a sum cannot cancel to near zero (which would make a relative
 * check meaningless), and varied, so a kernel that reads the wrong index gives a wrong answer.
 */
function fillF32(n: number, seed: number): Float32Array {
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = 0.125 + ((i * 37 + seed * 11) % 64) / 64;
  return values;
}

/** The sum in double precision: exact here, as every value is a multiple of 1/128 and no sum reaches 2^45. */
function sumOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] ?? 0;
  return sum;
}

function expectSamples(
  what: string,
  actual: ArrayLike<number>,
  length: number,
  expected: (index: number) => number,
  relativeTolerance: number,
): void {
  if (actual.length !== length) throw new Error(`${what}: expected ${length} elements, got ${actual.length}`);
  for (const index of sampleIndexes(length)) {
    expectClose(`${what}[${index}]`, actual[index] ?? Number.NaN, expected(index), relativeTolerance);
  }
}

function expectClose(what: string, actual: number, expected: number, relativeTolerance: number): void {
  const error = Math.abs(actual - expected);
  if (!(error <= relativeTolerance * Math.abs(expected) + 1e-6)) {
    throw new Error(`${what}: got ${actual}, expected ${expected}; the kernel is broken, so its figure is not reported`);
  }
}
