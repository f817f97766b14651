import type {} from 'webgpu';
import { CeleriacError, ErrorCode, type GpuCapability } from '@celeriac/core';
import type { KernelSpec } from '../kernels/kernel-spec.js';
import type { KernelArgValues } from '../kernels/resolve-kernel-args.js';
import { acquireDevice } from './acquire-device.js';
import type { AvailableGpuCapability } from './describe-adapter.js';
import { createPipelineCache, type PipelineCache, type PipelineCacheStats } from './pipeline-cache.js';
import { runKernel, type KernelResult } from './run-kernel.js';

/** Counters the executor process reports through `GpuExecutor.stats()`. */
export interface RuntimeStats {
  readonly pipelinesCompiled: number;
  readonly pipelineCacheHits: number;
  readonly runs: number;
  readonly devicesAcquired: number;
}

/** The device owner inside the executor process. */
export interface GpuRuntime {
  /** The adapter's capability, or why there is none. Acquires the device on first use. */
  describe(): Promise<GpuCapability>;
  /** Compiles (once per WGSL) and runs a kernel. Runs go one at a time, in arrival order. */
  run(spec: KernelSpec, args: KernelArgValues): Promise<KernelResult>;
  stats(): RuntimeStats;
  /** Destroys the device, e.g. before the process exits. */
  destroy(): void;
}

interface DeviceState {
  readonly device: GPUDevice;
  readonly capability: AvailableGpuCapability;
  readonly cache: PipelineCache;
  /** Rejects with `CELERIAC_GPU_DEVICE_LOST` when the device is lost; raced against every run on it. */
  readonly lost: Promise<never>;
}

/**
 * Creates the runtime over a WebGPU entry point (`create([])` from dawn.node). The device is acquired lazily and
 * replaced after a loss: the lost device's in-flight runs reject with `CELERIAC_GPU_DEVICE_LOST` (retryable), and
 * the next run acquires a new adapter and device, with a fresh pipeline cache since pipelines belong to a device.
 */
export function createGpuRuntime(gpu: GPU): GpuRuntime {
  const cacheStats: PipelineCacheStats = { compiles: 0, hits: 0 };
  let runs = 0;
  let devicesAcquired = 0;
  let current: Promise<DeviceState | { reason: string }> | undefined;
  // Runs are chained so one call's buffers are freed before the next allocates: peak memory stays one call's worth.
  let tail: Promise<unknown> = Promise.resolve();

  const acquire = (): Promise<DeviceState | { reason: string }> => {
    if (current !== undefined) return current;
    const attempt = acquireDevice(gpu).then((acquired) => {
      const forget = (): void => {
        if (current === attempt) current = undefined;
      };
      // No adapter is not cached: a driver installed or a GPU reset finished later should be picked up.
      if (!acquired.ok) return forget(), { reason: acquired.reason };
      devicesAcquired += 1;
      return watchDevice(acquired.device, acquired.capability, cacheStats, forget);
    });
    current = attempt;
    return attempt;
  };

  const runNow = async (spec: KernelSpec, args: KernelArgValues): Promise<KernelResult> => {
    const state = await acquire();
    if (!('device' in state)) throw new CeleriacError(ErrorCode.GpuUnavailable, state.reason);
    runs += 1;
    const work = state.cache.get(spec).then((kernel) => runKernel(state.device, kernel, spec, args));
    return Promise.race([work, state.lost]);
  };

  return {
    async describe() {
      const state = await acquire();
      return 'device' in state ? state.capability : { available: false, reason: state.reason };
    },
    run(spec, args) {
      const result = tail.then(() => runNow(spec, args));
      tail = result.catch(() => undefined);
      return result;
    },
    stats: () => ({ pipelinesCompiled: cacheStats.compiles, pipelineCacheHits: cacheStats.hits, runs, devicesAcquired }),
    destroy() {
      void current?.then((state) => ('device' in state ? state.device.destroy() : undefined));
      current = undefined;
    },
  };
}

function watchDevice(
  device: GPUDevice,
  capability: AvailableGpuCapability,
  cacheStats: PipelineCacheStats,
  onLost: () => void,
): DeviceState {
  const lost = device.lost.then((info): never => {
    onLost();
    throw new CeleriacError(
      ErrorCode.GpuDeviceLost,
      `The GPU device was lost (${info.reason}: ${info.message}). The executor acquires a new device for the next ` +
        'call; retry the job.',
      { details: { reason: info.reason, message: info.message } },
    );
  });
  lost.catch(() => undefined); // only runs in flight care; an idle loss must not be an unhandled rejection
  device.addEventListener('uncapturederror', (event) => {
    // Every command celeriac issues runs in an error scope, so this is a bug worth a line in the logs.
    console.error(`celeriac gpu: uncaptured WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  return { device, capability, cache: createPipelineCache(device, cacheStats), lost };
}
