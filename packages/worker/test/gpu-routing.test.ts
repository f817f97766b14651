import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTask, type GpuCapability, type TaskResources } from '@celeriac/core';
import { GpuCapacity } from '../dist/internal/routing/gpu-capacity.js';
import { describeUnsatisfied, planRouting } from '../dist/internal/routing/plan-routing.js';

/** Settles pending promise callbacks, so a test sees which acquisitions have been granted. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Acquires `share` and records the order in which acquisitions are granted. */
function take(capacity: GpuCapacity, share: number, granted: string[], label: string, onAbort?: (l: (e: Error) => void) => void) {
  return capacity.acquire(share, onAbort).then((release) => {
    granted.push(label);
    return release;
  });
}

describe('GpuCapacity', () => {
  it('runs four 0.25 shares at once on one GPU, and a fifth only when one ends', async () => {
    const capacity = new GpuCapacity(1);
    const granted: string[] = [];
    const releases = await Promise.all(['a', 'b', 'c', 'd'].map((label) => take(capacity, 0.25, granted, label)));
    const fifth = take(capacity, 0.25, granted, 'e');
    await flush();

    expect(granted).toEqual(['a', 'b', 'c', 'd']);
    expect(capacity.used).toBe(1);
    releases[0]!();
    await fifth;
    expect(granted).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('sums shares exactly: 0.1 + 0.2 + 0.7 fill one GPU (no floating-point leftovers)', async () => {
    const capacity = new GpuCapacity(1);
    const granted: string[] = [];
    await Promise.all([take(capacity, 0.1, granted, 'a'), take(capacity, 0.2, granted, 'b'), take(capacity, 0.7, granted, 'c')]);
    void take(capacity, 0.001, granted, 'd');
    await flush();

    expect(granted).toEqual(['a', 'b', 'c']);
  });

  it('runs one whole-GPU job at a time, and never lets small jobs overtake a waiting large one', async () => {
    const capacity = new GpuCapacity(1);
    const granted: string[] = [];
    const small = await take(capacity, 0.5, granted, 'small-1');
    const large = take(capacity, 1, granted, 'large');
    const later = take(capacity, 0.25, granted, 'small-2');
    await flush();

    // 0.5 is free, enough for small-2, but it arrived after the large job.
    expect(granted).toEqual(['small-1']);
    small();
    const releaseLarge = await large;
    await flush();
    expect(granted).toEqual(['small-1', 'large']);
    releaseLarge();
    await later;
    expect(granted).toEqual(['small-1', 'large', 'small-2']);
  });

  it('stops waiting when the job is aborted, and lets those behind it go', async () => {
    const capacity = new GpuCapacity(1);
    const granted: string[] = [];
    await take(capacity, 0.5, granted, 'running');
    let abort: (reason: Error) => void = () => {};
    const blocked = take(capacity, 1, granted, 'blocked', (listener) => (abort = listener));
    const behind = take(capacity, 0.5, granted, 'behind');
    await flush();
    expect(granted).toEqual(['running']);

    abort(new Error('cancelled'));
    await expect(blocked).rejects.toThrow('cancelled');
    await behind;
    expect(granted).toEqual(['running', 'behind']);
  });

  it('gives a share back once, however often release is called', async () => {
    const capacity = new GpuCapacity(1);
    const release = await capacity.acquire(0.5);
    release();
    release();
    expect(capacity.used).toBe(0);
  });

  it('refuses a share larger than the whole capacity instead of waiting forever', () => {
    const capacity = new GpuCapacity(1);
    expect(capacity.fits(2)).toBe(false);
    expect(() => capacity.acquire(2)).toThrow('more than this worker');
  });
});

const input = z.object({});
const output = z.number();
const task = (name: string, resources: TaskResources = {}, queue?: string) =>
  defineTask({ name, input, output, resources, handler: () => 1, ...(queue === undefined ? {} : { queue }) });

const gpu = (features: string[] = ['shader-f16'], isSoftware = false, count?: number): GpuCapability => ({
  available: true,
  adapter: { vendor: 'v', architecture: 'a', device: 'd', description: isSoftware ? 'llvmpipe' : 'GPU', isSoftware },
  features,
  limits: {},
  ...(count === undefined ? {} : { count }),
});

describe('planRouting', () => {
  it('consumes every queue of a worker that can run all its tasks', () => {
    const tasks = [task('add'), task('dot', { gpu: 1 }), task('quarter', { gpu: 0.25 })];
    const plan = planRouting({ tasks, queues: ['default', 'gpu', 'gpu.0.25'], concurrency: 8, gpu: gpu() });

    expect(plan.queues).toEqual(['default', 'gpu', 'gpu.0.25']);
    expect(plan.unsatisfied).toEqual([]);
    // GPU-only queues fetch no more jobs than fit the GPU; the CPU queue keeps the worker's concurrency.
    expect(plan.queueConcurrency).toEqual({ gpu: 1, 'gpu.0.25': 4 });
  });

  it('leaves alone the queue of a task it cannot run, and keeps the others', () => {
    const tasks = [task('add'), task('f16', { gpu: 1, features: ['shader-f16'] }), task('plain', { gpu: 1 })];
    const plan = planRouting({ tasks, queues: ['default', 'gpu.shader-f16', 'gpu'], concurrency: 2, gpu: gpu([]) });

    expect(plan.queues).toEqual(['default', 'gpu']);
    expect(plan.unsatisfied).toEqual([
      { task: 'f16', queue: 'gpu.shader-f16', leavesQueue: true, reasons: [expect.stringContaining('shader-f16')], alsoUnserved: [] },
    ]);
    expect(plan.unsatisfiedNames).toEqual(new Set(['f16']));
  });

  it('without an adapter, consumes only the CPU queues', () => {
    const tasks = [task('add'), task('dot', { gpu: 1 })];
    const plan = planRouting({ tasks, queues: ['default', 'gpu'], concurrency: 2, gpu: { available: false, reason: 'no driver' } });

    expect(plan.queues).toEqual(['default']);
    expect(plan.unsatisfied[0]).toMatchObject({ task: 'dot', reasons: [expect.stringContaining('no driver')] });
  });

  it('names the tasks it stops serving when a queue mixes a task it can run with one it cannot', () => {
    const tasks = [task('add', {}, 'shared'), task('discrete', { gpu: 1, adapterType: 'discrete' }, 'shared')];
    const plan = planRouting({ tasks, queues: ['shared'], concurrency: 2, gpu: gpu([], true) });

    expect(plan.queues).toEqual([]);
    expect(plan.unsatisfied).toEqual([
      expect.objectContaining({ task: 'discrete', queue: 'shared', alsoUnserved: ['add'], reasons: [expect.stringContaining('software')] }),
    ]);
    expect(describeUnsatisfied(plan.unsatisfied[0]!)).toMatch(
      /^task "discrete" cannot run on this worker: it needs a discrete GPU, .*software.*does not consume queue "shared" \(so it does not serve add there either\).*Give "discrete" a queue of its own/,
    );
  });

  it('still reports a task it cannot run whose queue it was not asked to consume', () => {
    const plan = planRouting({ tasks: [task('add'), task('dot', { gpu: 2 })], queues: ['default'], concurrency: 2, gpu: gpu() });

    expect(plan.queues).toEqual(['default']);
    expect(plan.unsatisfied).toEqual([expect.objectContaining({ task: 'dot', leavesQueue: false })]);
  });

  it('sizes GPU queues by the worker\'s GPU count and the smallest share, within its concurrency', () => {
    const tasks = [task('half', { gpu: 0.5 }, 'mixed'), task('quarter', { gpu: 0.25 }, 'mixed'), task('two', { gpu: 2 })];
    const plan = planRouting({ tasks, queues: ['mixed', 'gpu.2'], concurrency: 6, gpu: gpu([], false, 2) });

    expect(plan.queueConcurrency).toEqual({ mixed: 6, 'gpu.2': 1 });
  });
});
