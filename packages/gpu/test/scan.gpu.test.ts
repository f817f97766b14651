import { ErrorCode } from '@celeriac/core';
import { copyIf, exclusiveScan, genericScan, inclusiveScan } from '@celeriac/gpu';
import { expect, it } from 'vitest';
import { describeGpu, startGpuTestExecutor } from './gpu-test-support.js';
import { hashedI32, hashedU32, mismatches } from './reference-data.js';

const { executor, capability } = await startGpuTestExecutor();

/**
 * Sizes around the workgroup (256) and the dispatch limit (65535); past 2^22 the block count is capped (1024 blocks
 * of one 4096-element tile) and blocks loop over several tiles.
 */
const scanSizes = [1, 7, 255, 256, 257, 65_535, 65_536, 65_537, 2 ** 22 + 3] as const;

const cumsum = inclusiveScan({ name: 'cumsum', dtype: 'u32', scan: 'a + b', neutral: '0u', input: 'x[i]', args: { x: 'u32[]' } });
const offsets = exclusiveScan({ name: 'offsets', dtype: 'u32', scan: 'a + b', neutral: '0u', input: 'x[i]', args: { x: 'u32[]' } });
const runningMax = inclusiveScan({
  name: 'running_max',
  dtype: 'i32',
  scan: 'max(a, b)',
  neutral: '-2147483648',
  input: 'x[i] * k',
  args: { x: 'i32[]', k: 'i32' },
});
/** Associative but not commutative: a scan that combines in the wrong order gives a different answer. */
const lastNonZero = inclusiveScan({ dtype: 'u32', scan: 'select(a, b, b != 0u)', neutral: '0u', input: 'x[i]', args: { x: 'u32[]' } });
const segmented = genericScan({
  name: 'segmented_sum',
  dtype: 'f32',
  args: { x: 'f32[]', flags: 'u32[]', total: 'out f32[]', before: 'out f32[]', starts: 'out u32[]' },
  input: 'x[i]',
  scan: 'a + b',
  neutral: '0.0',
  isSegmentStart: 'flags[i] != 0u',
  output: 'total[i] = item; before[i] = prevItem; starts[i] = select(0u, 1u, isSegmentStart)',
});
const positives = copyIf({ name: 'positives', dtype: 'i32', predicate: 'x[i] > t', value: 'x[i]', args: { x: 'i32[]', t: 'i32' } });

/** Small values, so u32 sums stay exact, and sparse zeros for the non-commutative scan. */
function smallU32(n: number, seed: number): Uint32Array {
  const x = hashedU32(n, seed);
  for (let i = 0; i < n; i++) x[i] = ((x[i] as number) >>> 28) % 5;
  return x;
}

describeGpu('inclusive and exclusive scans on the GPU', capability, () => {
  it.each(scanSizes)('the inclusive u32 prefix sum is exact for n = %i', async (n) => {
    const x = hashedU32(n, 1); // sums wrap modulo 2^32, as in WGSL
    const y = await executor.run(cumsum, { x });
    expect(y).toBeInstanceOf(Uint32Array);
    expect(y).toHaveLength(n);
    const want = new Uint32Array(n);
    for (let i = 0, acc = 0; i < n; i++) want[i] = acc = (acc + (x[i] as number)) >>> 0;
    expect(mismatches(y, (i) => want[i] as number, () => 0)).toEqual([]);
  }, 60_000);

  it.each([0, 1, 255, 256, 257, 65_537])('the exclusive prefix sum starts at neutral for n = %i', async (n) => {
    const x = smallU32(n, 2);
    const y = await executor.run(offsets, { x });
    const want = new Uint32Array(n);
    for (let i = 0, acc = 0; i < n; i++) [want[i], acc] = [acc, acc + (x[i] as number)];
    expect(y).toHaveLength(n);
    expect(mismatches(y, (i) => want[i] as number, () => 0)).toEqual([]);
  });

  it.each([1, 257, 65_537])('a running max of a mapped input with a scalar is exact for n = %i', async (n) => {
    const x = hashedI32(n, 3);
    const y = await executor.run(runningMax, { x, k: -3 });
    const want = new Int32Array(n);
    for (let i = 0, acc = -(2 ** 31); i < n; i++) want[i] = acc = Math.max(acc, Math.imul(x[i] as number, -3));
    expect(mismatches(y, (i) => want[i] as number, () => 0)).toEqual([]);
  });

  it.each([257, 65_537, 2 ** 19 + 1])('combines in order (a non-commutative scan) for n = %i', async (n) => {
    const x = smallU32(n, 4).map((v, i) => (v === 0 ? i : 0)); // mostly zeros: values carry far across blocks
    const y = await executor.run(lastNonZero, { x });
    const want = new Uint32Array(n);
    for (let i = 0, acc = 0; i < n; i++) want[i] = acc = x[i] === 0 ? acc : (x[i] as number);
    expect(mismatches(y, (i) => want[i] as number, () => 0)).toEqual([]);
  }, 60_000);
});

describeGpu('genericScan on the GPU', capability, () => {
  it.each([1, 7, 256, 257, 65_535, 65_537, 2 ** 19 + 1])(
    'a segmented sum gives item, prevItem and isSegmentStart like a sequential loop for n = %i',
    async (n) => {
      // Integer-valued floats with short segments: every partial sum is exact in f32, so the match is exact.
      const x = Float32Array.from(smallU32(n, 5), (v) => v - 2);
      const flags = smallU32(n, 6).map((v) => (v === 0 ? 1 : 0));
      const { total, before, starts } = await executor.run(segmented, { x, flags });
      const [wantTotal, wantBefore] = [new Float32Array(n), new Float32Array(n)];
      for (let i = 0, acc = 0; i < n; i++) {
        if (flags[i] !== 0) acc = 0;
        wantBefore[i] = acc;
        wantTotal[i] = acc += x[i] as number;
      }
      expect(mismatches(total, (i) => wantTotal[i] as number, () => 0)).toEqual([]);
      expect(mismatches(before, (i) => wantBefore[i] as number, () => 0)).toEqual([]);
      expect(mismatches(starts, (i) => flags[i] as number, () => 0)).toEqual([]);
    },
    60_000,
  );
});

describeGpu('copyIf on the GPU', capability, () => {
  it.each([0, 1, 7, 255, 256, 257, 65_535, 65_537, 2 ** 22 + 3])('keeps the elements above a threshold, in order, for n = %i', async (n) => {
    const x = hashedI32(n, 7);
    const t = 1 << 29;
    const { values, count } = await executor.run(positives, { x, t });
    const want = x.filter((v) => v > t);
    expect(values).toBeInstanceOf(Int32Array);
    expect(count).toBe(want.length);
    expect(values).toHaveLength(want.length);
    expect(mismatches(values, (i) => want[i] as number, () => 0)).toEqual([]);
  }, 60_000);

  it('keeps everything or nothing', async () => {
    const x = new Int32Array([3, 1, 2]);
    await expect(executor.run(positives, { x, t: -5 })).resolves.toEqual({ values: x, count: 3 });
    await expect(executor.run(positives, { x, t: 5 })).resolves.toEqual({ values: new Int32Array(0), count: 0 });
  });
});

describeGpu('scan compile failures', capability, () => {
  it('reports an error in a scan expression as CELERIAC_KERNEL_COMPILE_FAILED with the compiler messages', async () => {
    const broken = genericScan({
      name: 'broken_scan',
      dtype: 'u32',
      args: { x: 'u32[]', y: 'out u32[]' },
      input: 'x[i]',
      scan: 'a + b * 1.5',
      neutral: '0u',
      output: 'y[i] = item',
    });
    await expect(executor.run(broken, { x: new Uint32Array(3) })).rejects.toMatchObject({
      code: ErrorCode.KernelCompileFailed,
      message: expect.stringContaining('Kernel "broken_scan" failed to compile'),
      details: { messages: [expect.objectContaining({ type: 'error' })] },
    });
  });
});
