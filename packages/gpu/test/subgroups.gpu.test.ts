import { createGpuExecutor, exclusiveScan, genericScan, inclusiveScan, reduction, type GpuExecutor } from '@celeriac/gpu';
import { afterAll, expect, it } from 'vitest';
import { describeGpu, startGpuTestExecutor } from './gpu-test-support.js';
import { hashedI32, hashedU32, mismatches } from './reference-data.js';

const { capability } = await startGpuTestExecutor();
const hasSubgroups = capability.available && capability.features.includes('subgroups');

const sumU32 = reduction({ name: 'sum_u32', dtype: 'u32', neutral: '0u', map: 'x[i]', reduce: 'a + b', args: { x: 'u32[]' } });
/** A reduce expression with no subgroup builtin of its own: the subgroup path must shuffle, not call subgroupMax. */
const maxAbsI32 = reduction({ name: 'max_abs', dtype: 'i32', neutral: '0', map: 'abs(x[i] / 2)', reduce: 'max(a, b)', args: { x: 'i32[]' } });

/** `a + b` unsegmented: the subgroup path uses subgroupInclusiveAdd (spelled `b+a` to check the match is loose). */
const cumsum = inclusiveScan({ name: 'sg_cumsum', dtype: 'u32', scan: 'b+a', neutral: '0u', input: 'x[i]', args: { x: 'u32[]' } });
const offsets = exclusiveScan({ name: 'sg_offsets', dtype: 'i32', scan: 'a + b', neutral: '0', input: 'x[i]', args: { x: 'i32[]' } });
/** Associative, not commutative: the subgroup path must shuffle up, and combine lanes in order. */
const lastNonZero = inclusiveScan({ name: 'sg_last', dtype: 'u32', scan: 'select(a, b, b != 0u)', neutral: '0u', input: 'x[i]', args: { x: 'u32[]' } });
/** Segmented: a struct carry, shuffled field by field. */
const segmented = genericScan({
  name: 'sg_segmented',
  dtype: 'i32',
  args: { x: 'i32[]', total: 'out i32[]', before: 'out i32[]' },
  input: 'x[i]',
  scan: 'a + b',
  neutral: '0',
  isSegmentStart: 'x[i] == 0',
  output: 'total[i] = item; before[i] = prevItem',
});

/** Scan sizes: one element, a partial tile, one past a tile (4096), and past 1024 tiles (blocks of two tiles). */
const scanSizes = [1, 255, 4_097, 65_537, 2 ** 22 + 5] as const;

describeGpu('reductions and scans with and without subgroups', capability, () => {
  const executors: Record<'auto' | 'off', GpuExecutor> = {
    auto: createGpuExecutor(),
    off: createGpuExecutor({ disabledFeatures: ['subgroups'] }),
  };
  afterAll(() => Promise.all(Object.values(executors).map((executor) => executor.close())));

  it.each([
    ['auto', 1],
    ['auto', 255],
    ['auto', 257],
    ['auto', 65_537],
    ['off', 1],
    ['off', 255],
    ['off', 257],
    ['off', 65_537],
  ] as const)('subgroups %s: sums and max match a JS reference for n = %i', async (mode, n) => {
    const [x, y] = [hashedU32(n, 11), hashedI32(n, 12)];
    let [sum, max] = [0, 0];
    for (let i = 0; i < n; i++) {
      sum = (sum + (x[i] as number)) >>> 0;
      max = Math.max(max, Math.abs(Math.trunc((y[i] as number) / 2)));
    }
    await expect(executors[mode].run(sumU32, { x })).resolves.toBe(sum);
    await expect(executors[mode].run(maxAbsI32, { x: y })).resolves.toBe(max);
  });

  it.each(scanSizes.flatMap((n) => [['auto', n] as const, ['off', n] as const]))(
    'subgroups %s: scans match a JS reference for n = %i',
    async (mode, n) => {
      const executor = executors[mode];
      // Values 0 to 3: sums stay exact, zeros start segments and are skipped by lastNonZero.
      const x = hashedU32(n, 13).map((value) => (value >>> 28) % 4);
      const signed = Int32Array.from(x, (value) => value - 1);
      const [sums, last, before, total] = [new Uint32Array(n), new Uint32Array(n), new Int32Array(n), new Int32Array(n)];
      for (let i = 0, sum = 0, latest = 0, segment = 0; i < n; i++) {
        const value = x[i] as number;
        [sum, latest] = [sum + value, value === 0 ? latest : value];
        if (signed[i] === 0) segment = 0;
        before[i] = segment;
        segment += signed[i] as number;
        [sums[i], last[i], total[i]] = [sum, latest, segment];
      }
      const exact = (): number => 0;
      expect(mismatches(await executor.run(cumsum, { x }), (i) => sums[i] as number, exact)).toEqual([]);
      expect(mismatches(await executor.run(lastNonZero, { x }), (i) => last[i] as number, exact)).toEqual([]);
      const exclusive = await executor.run(offsets, { x: signed });
      expect(mismatches(exclusive, (i) => (i === 0 ? 0 : (sums[i - 1] as number) - i), exact)).toEqual([]);
      const outputs = await executor.run(segmented, { x: signed });
      expect(mismatches(outputs.total, (i) => total[i] as number, exact)).toEqual([]);
      expect(mismatches(outputs.before, (i) => before[i] as number, exact)).toEqual([]);
    },
    60_000,
  );

  it('uses the subgroup variant only where the adapter has subgroups and the option allows it', async () => {
    const [auto, off] = await Promise.all([executors.auto.stats(), executors.off.stats()]);
    expect(auto.runs).toBeGreaterThan(0);
    expect(auto.subgroupRuns).toBe(hasSubgroups ? auto.runs : 0);
    expect(off.subgroupRuns).toBe(0);
    expect(off.runs).toBeGreaterThan(0);
  });
});
