import type {} from 'webgpu';
import { CeleriacError, ErrorCode, type GpuCapability } from '@celeriac/core';
import { GpuFeature, gpuFeatures } from '../kernels/gpu-feature.js';
import { type KernelSpec } from '../kernels/kernel-spec.js';
import type { DeviceArrayRef } from '../kernels/device-array-ref.js';
import type { Dtype, KernelArray } from '../kernels/dtype.js';
import type { KernelArgValues } from '../kernels/resolve-kernel-args.js';
import { DeviceArrays } from './device-arrays.js';
import { BufferPool, type BufferPoolCounters } from './buffer-pool.js';
import { acquireDevice } from './acquire-device.js';
import type { AvailableGpuCapability } from './describe-adapter.js';
import { createPipelineCache, type PipelineCache, type PipelineCacheStats } from './pipeline-cache.js';
import { runKernel, type KernelResult, type KernelRunOptions, type RunContext } from './run-kernel.js';

/** The GPU time of one kernel's runs, by kernel name in `GpuExecutor.stats().kernelTimings`. */
export interface KernelTiming {
  /** Runs of this kernel that recorded a GPU time. */
  readonly runs: number;
  /** Their GPU time added up, in nanoseconds. */
  readonly totalNs: number;
  /** The GPU time of the latest of them, in nanoseconds. */
  readonly lastNs: number;
}

/** How the executor process's buffer pool is doing, in `GpuExecutor.stats().bufferPool`. */
export interface BufferPoolStats extends Readonly<BufferPoolCounters> {
  /** Bytes of idle buffers the current device's pool holds for reuse. */
  readonly pooledBytes: number;
}

/** Counters the executor process reports through `GpuExecutor.stats()`. */
export interface RuntimeStats {
  readonly pipelinesCompiled: number;
  readonly pipelineCacheHits: number;
  readonly runs: number;
  readonly subgroupRuns: number;
  readonly devicesAcquired: number;
  readonly timestamps: boolean;
  readonly kernelTimings: Readonly<Record<string, KernelTiming>>;
  readonly deviceArrays: number;
  readonly bufferPool: BufferPoolStats;
}

/** The device owner inside the executor process. */
export interface GpuRuntime {
  /** The adapter's capability, or why there is none. Acquires the device on first use. */
  describe(): Promise<GpuCapability>;
  /**
   * Compiles (once per WGSL) and runs a kernel; with `keepOutputs`, its `out` arrays stay on the device. Runs,
   * uploads, downloads and releases go one at a time, in arrival order.
   */
  run(spec: KernelSpec, args: KernelArgValues, options: KernelRunOptions): Promise<KernelResult>;
  /** Copies a typed array into a new device array. */
  upload(data: KernelArray, dtype: Dtype): Promise<DeviceArrayRef>;
  /** Reads a device array back. */
  download(ref: DeviceArrayRef): Promise<KernelArray>;
  /** Frees a device array, after the work queued before it. */
  release(handle: number): Promise<void>;
  stats(): RuntimeStats;
  /** Destroys the device, e.g. before the process exits. */
  destroy(): void;
}

interface DeviceState {
  readonly device: GPUDevice;
  readonly capability: AvailableGpuCapability;
  readonly cache: PipelineCache;
  /** Holds the device's buffer pool (`context.pool`), dropped when the device is lost. */
  readonly context: RunContext;
  /** Rejects with `CELERIAC_GPU_DEVICE_LOST` when the device is lost; raced against every run on it. */
  readonly lost: Promise<never>;
}

/** What the runtime is told by the executor options, and its testing hook. */
export interface GpuRuntimeOptions {
  /** Optional features not to request, even where the adapter has them. */
  readonly disabledFeatures: readonly GpuFeature[];
  /** The most bytes of idle buffers each device's pool keeps for reuse; 0 turns pooling off. */
  readonly bufferPoolBytes: number;
  /** TESTING ONLY: the first run of a kernel with this name destroys the device while in flight. */
  readonly loseDeviceOnKernel?: string | undefined;
}

/**
 * TESTING ONLY. The executor-process environment variable that makes the first run of the named kernel destroy the
 * device (a real `GPUDevice.destroy()`) right after its work is submitted, once per executor process, so tests can
 * see `CELERIAC_GPU_DEVICE_LOST` and the recovery: `createGpuExecutor({ env: { [testingLoseDeviceEnv]: 'name' } })`.
 */
export const testingLoseDeviceEnv = 'CELERIAC_GPU_TESTING_LOSE_DEVICE_ON_KERNEL';

/**
 * Creates the runtime over a WebGPU entry point (`create([])` from dawn.node). The device is acquired lazily and
 * replaced after a loss: the lost device's in-flight runs reject with `CELERIAC_GPU_DEVICE_LOST` (retryable), and
 * the next run acquires a new adapter and device, with a fresh pipeline cache since pipelines belong to a device.
 */
export function createGpuRuntime(gpu: GPU, options: GpuRuntimeOptions): GpuRuntime {
  let loseDeviceOnKernel = options.loseDeviceOnKernel;
  const wantedFeatures = gpuFeatures.filter((feature) => !options.disabledFeatures.includes(feature));
  let subgroupRuns = 0;
  const kernelTimings = new Map<string, KernelTiming>();
  // The latest device's features, for stats(); empty before one is acquired, or without an adapter.
  let deviceFeatures: ReadonlySet<string> = new Set();
  const cacheStats: PipelineCacheStats = { compiles: 0, hits: 0 };
  const poolCounters: BufferPoolCounters = { hits: 0, misses: 0 };
  // The latest device's pool, for stats(); a lost device's pool reports 0 bytes, having dropped them.
  let pool: BufferPool | undefined;
  let runs = 0;
  let devicesAcquired = 0;
  let current: Promise<DeviceState | { reason: string }> | undefined;
  const arrays = new DeviceArrays();
  // GPU work is chained so one call's buffers are back in the pool before the next takes its own: peak memory stays
  // one call's worth (plus the pool), and a release or download runs after the runs queued before it.
  let tail: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const result = tail.then(work);
    tail = result.catch(() => undefined);
    return result;
  };

  const acquire = (): Promise<DeviceState | { reason: string }> => {
    if (current !== undefined) return current;
    const attempt = acquireDevice(gpu, wantedFeatures).then((acquired) => {
      const forget = (): void => {
        if (current === attempt) current = undefined;
      };
      // No adapter is not cached: a driver installed or a GPU reset finished later should be picked up.
      if (!acquired.ok) return forget(), { reason: acquired.reason };
      devicesAcquired += 1;
      deviceFeatures = acquired.device.features;
      pool = new BufferPool(acquired.device, options.bufferPoolBytes, poolCounters);
      return watchDevice(acquired.device, acquired.capability, { cacheStats, arrays, pool }, forget);
    });
    current = attempt;
    return attempt;
  };

  const requireDevice = async (): Promise<DeviceState> => {
    const state = await acquire();
    if (!('device' in state)) throw new CeleriacError(ErrorCode.GpuUnavailable, state.reason);
    return state;
  };

  const runNow = async (spec: KernelSpec, args: KernelArgValues, options: KernelRunOptions): Promise<KernelResult> => {
    const state = await requireDevice();
    assertFeatures(spec, state);
    runs += 1;
    const variant = spec.variants.find((candidate) => state.device.features.has(candidate.feature));
    if (variant?.feature === GpuFeature.Subgroups) subgroupRuns += 1;
    const work = state.cache.get(spec, variant?.wgsl ?? spec.wgsl).then((kernel) => {
      const running = runKernel(state.device, kernel, spec, args, state.context, options);
      if (spec.name === loseDeviceOnKernel) {
        // Once per process, so the retry that follows runs on the new device.
        loseDeviceOnKernel = undefined;
        state.device.destroy();
      }
      return running;
    });
    const { result, gpuTimeNs } = await Promise.race([work, state.lost]);
    if (gpuTimeNs !== undefined) recordTiming(kernelTimings, spec.name, gpuTimeNs);
    return result;
  };

  return {
    async describe() {
      const state = await acquire();
      return 'device' in state ? state.capability : { available: false, reason: state.reason };
    },
    run: (spec, args, options) => enqueue(() => runNow(spec, args, options)),
    upload: (data, dtype) => enqueue(async () => arrays.upload((await requireDevice()).context.pool, data, dtype)),
    download: (ref) =>
      enqueue(async () => {
        const state = await requireDevice();
        return Promise.race([arrays.download(state.context.pool, ref), state.lost]);
      }),
    release: (handle) => enqueue(async () => arrays.release(handle)),
    stats: () => ({
      pipelinesCompiled: cacheStats.compiles,
      pipelineCacheHits: cacheStats.hits,
      runs,
      subgroupRuns,
      devicesAcquired,
      timestamps: deviceFeatures.has(GpuFeature.TimestampQuery),
      kernelTimings: Object.fromEntries(kernelTimings),
      deviceArrays: arrays.count,
      bufferPool: { ...poolCounters, pooledBytes: pool?.pooledBytes ?? 0 },
    }),
    destroy() {
      void current?.then((state) => {
        if (!('device' in state)) return;
        state.context.pool.drop();
        state.device.destroy();
      });
      current = undefined;
    },
  };
}

function watchDevice(
  device: GPUDevice,
  capability: AvailableGpuCapability,
  shared: { readonly cacheStats: PipelineCacheStats; readonly arrays: DeviceArrays; readonly pool: BufferPool },
  onLost: () => void,
): DeviceState {
  const lost = device.lost.then((info): never => {
    onLost();
    shared.pool.drop();
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
  const timestamps = device.features.has(GpuFeature.TimestampQuery)
    ? device.createQuerySet({ label: 'celeriac timings', type: 'timestamp', count: 2 })
    : undefined;
  return {
    device,
    capability,
    cache: createPipelineCache(device, shared.cacheStats),
    context: { timestamps, arrays: shared.arrays, pool: shared.pool },
    lost,
  };
}

/** Refuses a kernel that needs a feature the device lacks, naming it, instead of letting the compiler fail obscurely. */
function assertFeatures(spec: KernelSpec, state: DeviceState): void {
  const missing = spec.features.filter((feature) => !state.device.features.has(feature));
  if (missing.length === 0) return;
  const adapter = state.capability.adapter.description || state.capability.adapter.vendor;
  throw new CeleriacError(
    ErrorCode.GpuUnavailable,
    `Kernel "${spec.name}" needs the WebGPU feature ${missing.map((f) => `'${f}'`).join(', ')}, which this device ` +
      `(${adapter}) does not have or the executor's disabledFeatures excludes. Run it on a GPU that has it, or ` +
      'convert the data to f32.',
    { details: { kernel: spec.name, missingFeatures: missing } },
  );
}

function recordTiming(timings: Map<string, KernelTiming>, name: string, gpuTimeNs: number): void {
  const previous = timings.get(name) ?? { runs: 0, totalNs: 0, lastNs: 0 };
  timings.set(name, { runs: previous.runs + 1, totalNs: previous.totalNs + gpuTimeNs, lastNs: gpuTimeNs });
}
