import { copyIf, createGpuExecutor, elementwise, genericScan, inclusiveScan, matmul, reduction, type GpuExecutor } from '@celeriac/gpu';
import { afterAll, expect, it } from 'vitest';
import { describeGpu, startGpuTestExecutor } from './gpu-test-support.js';
import { hashedU32, mismatches } from './reference-data.js';

const { capability } = await startGpuTestExecutor();

/** Writes only the odd elements: the even ones must read 0, never what a reused buffer held. */
const oddsOnly = elementwise({ name: 'odds_only', args: { z: 'out u32[]', x: 'u32[]' }, operation: 'if (i % 2u == 1u) { z[i] = x[i]; }' });
const cumsum = inclusiveScan({ name: 'pool_cumsum', dtype: 'u32', scan: 'a + b', neutral: '0u', input: 'x[i]', args: { x: 'u32[]' } });
/** Associative, not commutative, and not '+': the generic (shuffle) path of every scan pass. */
const lastNonZero = inclusiveScan({ name: 'pool_last', dtype: 'u32', scan: 'select(a, b, b != 0u)', neutral: '0u', input: 'x[i]', args: { x: 'u32[]' } });
const evens = copyIf({ name: 'pool_evens', dtype: 'u32', predicate: 'x[i] % 2u == 0u', value: 'x[i]', args: { x: 'u32[]' } });
const sum = reduction({ name: 'pool_sum', dtype: 'u32', neutral: '0u', map: 'x[i]', reduce: 'a + b', args: { x: 'u32[]' } });
/** A scatter: each segment's total lands at its start, every other element of `heads` stays 0. */
const segmentTotals = genericScan({
  name: 'pool_segment_heads',
  dtype: 'u32',
  args: { x: 'u32[]', heads: 'out u32[]' },
  input: 'x[i]',
  scan: 'a + b',
  neutral: '0u',
  isSegmentStart: 'i % 100u == 0u',
  output: 'if (i % 100u == 99u || i == n - 1u) { heads[i - i % 100u] = item; }',
});
const product = matmul({ name: 'pool_matmul', dtype: 'u32' });

/** Values from 0 to 3, so sums stay exact, with zeros for the non-commutative scan. */
function smallU32(n: number, seed: number): Uint32Array {
  return hashedU32(n, seed).map((value) => (value >>> 28) % 4);
}

/** Runs every kernel on `n` elements and checks each result against a JS reference. */
async function runAndCheck(executor: GpuExecutor, n: number, seed: number): Promise<void> {
  const x = smallU32(n, seed);
  const { z } = await executor.run(oddsOnly, { x });
  expect(mismatches(z, (i) => (i % 2 === 1 ? (x[i] as number) : 0), () => 0)).toEqual([]);

  const scanned = await executor.run(cumsum, { x });
  const last = await executor.run(lastNonZero, { x });
  const heads = (await executor.run(segmentTotals, { x })).heads;
  const [wantScan, wantLast, wantHeads] = [new Uint32Array(n), new Uint32Array(n), new Uint32Array(n)];
  for (let i = 0, acc = 0, latest = 0, segment = 0; i < n; i++) {
    const value = x[i] as number;
    acc += value;
    latest = value !== 0 ? value : latest;
    segment = i % 100 === 0 ? value : segment + value;
    [wantScan[i], wantLast[i]] = [acc, latest];
    if (i % 100 === 99 || i === n - 1) wantHeads[i - (i % 100)] = segment;
  }
  expect(mismatches(scanned, (i) => wantScan[i] as number, () => 0)).toEqual([]);
  expect(mismatches(last, (i) => wantLast[i] as number, () => 0)).toEqual([]);
  expect(mismatches(heads, (i) => wantHeads[i] as number, () => 0)).toEqual([]);

  const kept = x.filter((value) => value % 2 === 0);
  await expect(executor.run(evens, { x })).resolves.toEqual({ values: kept, count: kept.length });
  await expect(executor.run(sum, { x })).resolves.toBe(wantScan[n - 1]);

  // A side×side product of small integers: exact, and its output buffer is a scratch buffer of the kernel.
  const side = Math.max(1, Math.floor(Math.sqrt(n) / 4));
  const [a, b] = [smallU32(side * side, seed + 1), smallU32(side * side, seed + 2)];
  const c = await executor.run(product, { a, b, rows: side, inner: side, cols: side });
  const cell = (i: number): number => {
    let dot = 0;
    for (let k = 0; k < side; k++) dot += (a[Math.floor(i / side) * side + k] as number) * (b[k * side + (i % side)] as number);
    return dot;
  };
  expect(mismatches(c, cell, () => 0)).toEqual([]);
}

describeGpu('the buffer pool', capability, () => {
  const executors = {
    pooled: createGpuExecutor(),
    unpooled: createGpuExecutor({ bufferPoolBytes: 0 }),
    bounded: createGpuExecutor({ bufferPoolBytes: 64 * 1024 }),
  };
  afterAll(() => Promise.all(Object.values(executors).map((executor) => executor.close())));

  it('gives correct results big, then small, then big again, from reused buffers that are not zeroed', async () => {
    const { pooled } = executors;
    for (const [n, seed] of [[300_001, 1], [1_001, 2], [37, 3], [300_001, 4], [65_536, 5]] as const) {
      await runAndCheck(pooled, n, seed);
    }
    const { bufferPool } = await pooled.stats();
    expect(bufferPool.hits).toBeGreaterThan(bufferPool.misses);
    expect(bufferPool.pooledBytes).toBeGreaterThan(0);
    expect(bufferPool.pooledBytes).toBeLessThanOrEqual(256 * 1024 * 1024);
  }, 120_000);

  it('reuses a GpuArray buffer once the array is released', async () => {
    const { pooled } = executors;
    const x = await pooled.upload(smallU32(5_000, 6));
    const doubled = await x.mul(2);
    await Promise.all([x.release(), doubled.release()]);
    const before = (await pooled.stats()).bufferPool;
    const y = await pooled.upload(new Uint32Array(5_000).fill(3));
    await expect(y.sum()).resolves.toBe(15_000);
    await expect(y.download()).resolves.toEqual(new Uint32Array(5_000).fill(3));
    await y.release();
    expect((await pooled.stats()).bufferPool.hits).toBeGreaterThan(before.hits);
  });

  it('creates every buffer anew and keeps none with bufferPoolBytes: 0', async () => {
    const { unpooled } = executors;
    await runAndCheck(unpooled, 70_000, 7);
    await runAndCheck(unpooled, 70_000, 8);
    expect((await unpooled.stats()).bufferPool).toEqual({ hits: 0, misses: expect.any(Number), pooledBytes: 0 });
  }, 60_000);

  it('keeps at most bufferPoolBytes of idle buffers, and still reuses those that fit', async () => {
    const { bounded } = executors;
    for (const [n, seed] of [[200_000, 9], [500, 10], [200_000, 11], [500, 12]] as const) {
      await runAndCheck(bounded, n, seed);
      expect((await bounded.stats()).bufferPool.pooledBytes).toBeLessThanOrEqual(64 * 1024);
    }
    expect((await bounded.stats()).bufferPool.hits).toBeGreaterThan(0);
  }, 60_000);
});
