import { createGpuExecutor, elementwise, reduction } from '@celeriac/gpu';
import { afterAll, expect, it } from 'vitest';
import { describeGpu, startGpuTestExecutor } from './gpu-test-support.js';
import { mixedF32 } from './reference-data.js';

const { executor, capability } = await startGpuTestExecutor();
const hasTimestamps = capability.available && capability.features.includes('timestamp-query');

const scale = elementwise({ name: 'timed_scale', args: { z: 'out f32[]', x: 'f32[]', a: 'f32' }, operation: 'z[i] = a * x[i]' });
const sum = reduction({ name: 'timed_sum', dtype: 'f32', neutral: '0.0', map: 'x[i]', reduce: 'a + b', args: { x: 'f32[]' } });
const x = mixedF32(2 ** 16, 1);

describeGpu('kernel timings from timestamp queries', capability, () => {
  it('records the GPU time of each run per kernel name where the adapter has timestamp-query', async ({ skip }) => {
    if (!hasTimestamps) skip('this adapter has no timestamp-query');
    await executor.run(scale, { x, a: 2 });
    await executor.run(scale, { x, a: 3 });
    await executor.run(sum, { x });
    const { timestamps, kernelTimings } = await executor.stats();
    expect(timestamps).toBe(true);
    const scaleTiming = kernelTimings['timed_scale'];
    expect(scaleTiming).toMatchObject({ runs: 2, lastNs: expect.any(Number), totalNs: expect.any(Number) });
    // Values only: no assertion on how long lavapipe takes, just that the spans are real nanosecond counts.
    expect(Number.isInteger(scaleTiming?.lastNs)).toBe(true);
    expect(scaleTiming?.lastNs).toBeGreaterThan(0);
    expect(scaleTiming?.totalNs).toBeGreaterThanOrEqual(scaleTiming?.lastNs ?? Infinity);
    expect(kernelTimings['timed_sum']).toMatchObject({ runs: 1 });
    expect(kernelTimings['timed_sum']?.totalNs).toBe(kernelTimings['timed_sum']?.lastNs);
  });

  it('says timestamps: false and records nothing when timestamp-query is disabled', async () => {
    const untimed = createGpuExecutor({ disabledFeatures: ['timestamp-query'] });
    afterAll(() => untimed.close());
    await expect(untimed.run(scale, { x: new Float32Array([1, 2]), a: 2 })).resolves.toEqual({ z: new Float32Array([2, 4]) });
    await expect(untimed.stats()).resolves.toMatchObject({ timestamps: false, kernelTimings: {}, runs: 1 });
  });
});
