import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ErrorCode,
  defineTask,
  findWaitingFor,
  matchResources,
  toCatalogueEntry,
  type GpuCapability,
  type TaskResources,
  type WorkerInfo,
} from '@celeriac/core';

const input = z.object({});
const output = z.number();
const handler = () => 1;

/** A task with these resources (and no queue, unless given). */
const gpuTask = (resources: TaskResources, queue?: string) =>
  defineTask({ name: 'render', input, output, resources, handler, ...(queue === undefined ? {} : { queue }) });

/** An adapter as a worker's heartbeat describes it. */
function adapter(overrides: Partial<Extract<GpuCapability, { available: true }>> = {}, isSoftware = false): GpuCapability {
  return {
    available: true,
    adapter: { vendor: 'nvidia', architecture: 'hopper', device: 'h200', description: 'NVIDIA H200', isSoftware },
    features: ['shader-f16', 'subgroups', 'timestamp-query'],
    limits: {},
    ...overrides,
  };
}

const lavapipe = adapter(
  { adapter: { vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe: Mesa 25.0.7', isSoftware: true } },
  true,
);

describe('defineTask resources', () => {
  it('resolves a GPU task to sorted, unique features and adapterType "any", and gives it a queue of its own', () => {
    const task = gpuTask({ gpu: 0.25, features: ['subgroups', 'shader-f16', 'subgroups'] });

    expect(task.resources).toEqual({ gpu: 0.25, features: ['shader-f16', 'subgroups'], adapterType: 'any' });
    expect(task.queue).toBe('gpu.0.25.shader-f16.subgroups');
    expect(Object.isFrozen(task.resources.features)).toBe(true);
  });

  it.each([
    [{ gpu: 1 }, 'gpu'],
    [{ gpu: 0.5 }, 'gpu.0.5'],
    [{ gpu: 2, adapterType: 'discrete' as const }, 'gpu.2.discrete'],
    [{ gpu: 1, adapterType: 'discrete' as const, features: ['shader-f16'] }, 'gpu.discrete.shader-f16'],
  ])('names the default queue of %o %s', (resources, queue) => {
    expect(gpuTask(resources).queue).toBe(queue);
  });

  it('keeps an explicit queue, and CPU tasks default to "default" with no resources', () => {
    expect(gpuTask({ gpu: 1 }, 'renders').queue).toBe('renders');
    expect(defineTask({ name: 'cpu', input, output, handler })).toMatchObject({ queue: 'default', resources: {} });
  });

  it.each([
    ['zero', { gpu: 0 }, 'task.resources.gpu', 'at least 0.001'],
    ['a negative share', { gpu: -0.5 }, 'task.resources.gpu', 'at least 0.001'],
    ['a fractional count above one', { gpu: 1.5 }, 'task.resources.gpu', 'whole number of GPUs'],
    ['too many GPUs', { gpu: 65 }, 'task.resources.gpu', ''],
    ['features without a GPU', { features: ['shader-f16'] }, 'task.resources.gpu', 'add gpu'],
    ['adapterType without a GPU', { adapterType: 'discrete' as const }, 'task.resources.gpu', 'add gpu'],
    ['a feature that is not a feature name', { gpu: 1, features: ['Shader F16'] }, 'task.resources.features.0', 'WebGPU feature name'],
    ['an unknown adapter type', { gpu: 1, adapterType: 'integrated' as never }, 'task.resources.adapterType', ''],
  ])('rejects %s, naming the field', (_, resources, path, message) => {
    expect(() => gpuTask(resources)).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidOptions,
        message: expect.stringMatching(new RegExp(`${path.replaceAll('.', '\\.')}: [^;]*${message}`)),
      }),
    );
  });

  it('rejects an unknown resource, so a typo is not silently ignored', () => {
    expect(() => gpuTask({ gpu: 1, gpus: 2 } as TaskResources)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
  });

  it('publishes the resolved resources in the catalogue', () => {
    const entry = toCatalogueEntry(gpuTask({ gpu: 0.5, features: ['shader-f16'], adapterType: 'discrete' }));

    expect(entry.resources).toEqual({ gpu: 0.5, features: ['shader-f16'], adapterType: 'discrete' });
    expect(entry.queue).toBe('gpu.0.5.discrete.shader-f16');
    expect(toCatalogueEntry(defineTask({ name: 'cpu', input, output, handler })).resources).toEqual({});
  });
});

describe('matchResources', () => {
  it('accepts anything for a task without a GPU, even on a worker without one', () => {
    expect(matchResources({}, undefined)).toEqual({ satisfied: true });
    expect(matchResources({}, { available: false, reason: 'no driver' })).toEqual({ satisfied: true });
  });

  it('refuses a GPU task on a worker without an adapter, with the executor\'s reason', () => {
    const match = matchResources({ gpu: 1 }, { available: false, reason: 'No WebGPU adapter: install mesa-vulkan-drivers' });

    expect(match).toEqual({ satisfied: false, reasons: [expect.stringContaining('install mesa-vulkan-drivers')] });
  });

  it('compares features: all required ones must be there', () => {
    expect(matchResources({ gpu: 1, features: ['shader-f16', 'subgroups'] }, adapter()).satisfied).toBe(true);
    const match = matchResources({ gpu: 1, features: ['shader-f16', 'float32-filterable'] }, adapter());

    expect(match).toEqual({ satisfied: false, reasons: [expect.stringContaining('float32-filterable')] });
    expect(JSON.stringify(match)).not.toContain('shader-f16');
  });

  it('never counts a software adapter as discrete, and takes the worker\'s word for a hardware one', () => {
    expect(matchResources({ gpu: 1, adapterType: 'discrete' }, lavapipe)).toEqual({
      satisfied: false,
      reasons: [expect.stringContaining('software')],
    });
    // Even if a worker claimed otherwise, a software adapter stays software.
    expect(matchResources({ gpu: 1, adapterType: 'discrete' }, { ...lavapipe, adapterType: 'discrete' } as GpuCapability).satisfied).toBe(false);
    expect(matchResources({ gpu: 1, adapterType: 'discrete' }, adapter()).satisfied).toBe(true);
    expect(matchResources({ gpu: 1, adapterType: 'discrete' }, adapter({ adapterType: 'integrated' })).satisfied).toBe(false);
  });

  it('lets "any" adapter type run on a software adapter', () => {
    expect(matchResources({ gpu: 1, adapterType: 'any' }, lavapipe).satisfied).toBe(true);
  });

  it('compares the GPUs one job needs with what the worker offers (1 unless its count says otherwise)', () => {
    expect(matchResources({ gpu: 1 }, adapter()).satisfied).toBe(true);
    expect(matchResources({ gpu: 2 }, adapter()).satisfied).toBe(false);
    expect(matchResources({ gpu: 2 }, adapter({ count: 2 })).satisfied).toBe(true);
    expect(matchResources({ gpu: 0.5 }, adapter({ count: 0.5 })).satisfied).toBe(true);
    expect(matchResources({ gpu: 1 }, adapter({ count: 0.5 }))).toEqual({
      satisfied: false,
      reasons: ['needs 1 GPU(s), and this worker offers 0.5'],
    });
    expect(matchResources({ gpu: 0.25 }, adapter({ count: 0 })).satisfied).toBe(false);
  });

  it('gives every reason at once', () => {
    const match = matchResources({ gpu: 2, adapterType: 'discrete', features: ['shader-f16', 'bogus'] }, lavapipe);

    expect(match.satisfied).toBe(false);
    expect(match.satisfied ? [] : match.reasons).toHaveLength(3);
  });
});

describe('findWaitingFor', () => {
  const worker = (queues: string[], gpu: GpuCapability | undefined, tasks = ['render']): WorkerInfo => ({
    id: 'w',
    hostname: 'h',
    pid: 1,
    queues,
    tasks,
    concurrency: 1,
    startedAtMs: 0,
    heartbeatAtMs: 0,
    capabilities: { cpuSlots: 1, ...(gpu ? { gpu } : {}) },
  });
  const job = { task: 'render', queue: 'gpu' };
  const resources = { gpu: 1, features: ['shader-f16'], adapterType: 'any' as const };

  it('says a job waits for a capable worker when no live worker could take it', () => {
    expect(findWaitingFor(job, resources, [])).toEqual({ reason: 'no-capable-worker', requires: resources, queue: 'gpu' });
    expect(findWaitingFor(job, resources, [worker(['default'], undefined)])?.reason).toBe('no-capable-worker');
    // Capable, but not consuming the queue, or without the task: still waiting.
    expect(findWaitingFor(job, resources, [worker(['other'], adapter())])).toBeDefined();
    expect(findWaitingFor(job, resources, [worker(['gpu'], adapter(), ['add'])])).toBeDefined();
    // Consuming the queue with an adapter that lacks the feature (an older heartbeat, before the worker left it).
    expect(findWaitingFor(job, resources, [worker(['gpu'], adapter({ features: [] }))])).toBeDefined();
  });

  it('says nothing once a capable worker consumes the queue, or for a task without a GPU', () => {
    expect(findWaitingFor(job, resources, [worker(['gpu'], lavapipe), worker(['gpu'], adapter())])).toBeUndefined();
    expect(findWaitingFor(job, {}, [])).toBeUndefined();
  });
});
