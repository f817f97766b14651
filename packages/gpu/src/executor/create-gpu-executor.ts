import {
  CeleriacError,
  ErrorCode,
  type GpuCapability,
  type GpuKernel,
  type GpuRunner,
  type GpuRunOptions,
} from '@celeriac/core';
import type { BufferPoolStats, KernelTiming } from '../internal/gpu-runtime.js';
import type { DeviceArrayRef } from '../kernels/device-array-ref.js';
import { isKernelSpec } from '../kernels/kernel-spec.js';
import { resolveKernelArgs } from '../kernels/resolve-kernel-args.js';
import { resolveKernelRange } from '../kernels/kernel-range.js';
import { dtypeOf, type Dtype, type DtypeOf, type KernelArray } from '../kernels/dtype.js';
import { abortedCallError, callTimeoutError } from './aborted-call-error.js';
import { DeviceArray, type GpuArray, type GpuArrayCallOptions, type GpuArrayHost } from './gpu-array.js';
import { ExecutorChild } from './executor-child.js';
import { RequestType, type ExecutorCall } from './executor-protocol.js';
import { resolveGpuExecutorOptions, type GpuExecutorOptions } from './gpu-executor-options.js';

/** Counters from {@link GpuExecutor.stats}: whether the pipeline cache works, and how often the process restarted. */
export interface GpuExecutorStats {
  /** Kernels compiled by the current executor process (one shader module and its pipelines each). */
  readonly pipelinesCompiled: number;
  /** Runs of the current process that found their kernel already compiled. */
  readonly pipelineCacheHits: number;
  /** Runs the current process started. */
  readonly runs: number;
  /** Of those, runs that used a kernel's subgroup variant (the adapter has `subgroups`, and the option allows it). */
  readonly subgroupRuns: number;
  /** Devices the current process acquired: more than 1 means a device was lost and replaced. */
  readonly devicesAcquired: number;
  /** Executor processes this executor started: more than 1 means one crashed or was killed and was replaced. */
  readonly executorStarts: number;
  /** `GpuArray`s the current process holds: uploaded or computed, and not yet released. */
  readonly deviceArrays: number;
  /**
   * Whether the current device records GPU time (it has `timestamp-query`, and `disabledFeatures` allows it). When
   * false, `kernelTimings` stays empty and only wall-clock time is available.
   */
  readonly timestamps: boolean;
  /**
   * GPU time per kernel name, from timestamps written at the start of a run's first pass and the end of its last:
   * `{ runs, totalNs, lastNs }`, nanoseconds, for the current process. Runs go one at a time, so after
   * `await executor.run(kernel, args)` resolves, `kernelTimings[kernel.spec.name].lastNs` is that run's GPU time
   * unless another caller ran a kernel of the same name meanwhile. Uploads and read-backs are not included.
   */
  readonly kernelTimings: Readonly<Record<string, KernelTiming>>;
  /**
   * The current process's buffer pool (see the `bufferPoolBytes` option): buffers taken from it (`hits`) and created
   * because it had none of the size (`misses`), and the bytes of idle buffers it holds (`pooledBytes`).
   */
  readonly bufferPool: BufferPoolStats;
}

/**
 * Runs kernels in a separate process that owns the WebGPU device. Implements core's `GpuRunner`, so a worker hands
 * it to GPU tasks as `ctx.gpu`.
 */
export interface GpuExecutor extends GpuRunner {
  /**
   * Runs `kernel` on `args` and resolves with the result read back from the device. Arguments are checked here,
   * before anything crosses to the executor process.
   *
   * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` (bad args), `CELERIAC_KERNEL_COMPILE_FAILED` (bad
   *   WGSL, with the compiler's messages), `CELERIAC_GPU_UNAVAILABLE` (no adapter), `CELERIAC_GPU_DEVICE_LOST` or
   *   `CELERIAC_GPU_EXECUTOR_CRASHED` (both retryable; the next call gets a fresh device or process),
   *   `CELERIAC_TIME_LIMIT_EXCEEDED` (past `callTimeout`, or the signal's reason) or `CELERIAC_JOB_CANCELLED` (aborted)
   */
  run<Args, Result>(kernel: GpuKernel<Args, Result>, args: Args, options?: GpuRunOptions): Promise<Result>;
  /**
   * Copies a typed array to the GPU and resolves with a {@link GpuArray} held there, for arithmetic and reductions
   * without moving the data again, or as an input of `run()`.
   *
   * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for anything but a Float32Array, Int32Array,
   *   Uint32Array or Uint16Array (f16 bits); and as `run()` for the GPU and the process
   */
  upload<A extends KernelArray>(data: A, options?: GpuArrayCallOptions): Promise<GpuArray<DtypeOf<A>>>;
  /** The adapter's identity, features and limits, or `{ available: false, reason }`; never rejects for "no GPU". */
  describe(): Promise<GpuCapability>;
  /** Counters for monitoring and tests. */
  stats(): Promise<GpuExecutorStats>;
  /** Ends the executor process (pending calls reject) and refuses further calls. Safe to call twice. */
  close(): Promise<void>;
  /** The executor process's pid while one runs, else `undefined`. For diagnostics, and for tests that kill it. */
  readonly pid: number | undefined;
}

/**
 * Creates a GPU executor. The process starts on first use, not here, so creating one is free on machines that never
 * run GPU work. If the process dies, pending calls reject with `CELERIAC_GPU_EXECUTOR_CRASHED` and the next call
 * starts a fresh one. An idle executor never keeps this process alive.
 *
 * @example
 * ```ts
 * const executor = createGpuExecutor();
 * const capability = await executor.describe();
 * if (capability.available) console.log(capability.adapter.description);
 * await executor.close();
 * ```
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` for bad options
 */
export function createGpuExecutor(options: GpuExecutorOptions = {}): GpuExecutor {
  const resolved = resolveGpuExecutorOptions(options);
  let child: ExecutorChild | undefined;
  let executorStarts = 0;
  let closed = false;

  const currentChild = (): ExecutorChild => {
    if (closed) {
      throw new CeleriacError(
        ErrorCode.GpuUnavailable,
        'This GPU executor was closed. Create a new one with createGpuExecutor() to run more GPU work.',
      );
    }
    if (child === undefined) {
      executorStarts += 1;
      const started: ExecutorChild = new ExecutorChild(resolved, () => {
        if (child === started) child = undefined;
      });
      child = started;
    }
    return child;
  };

  /** Sends GPU work to `target`, stopped by the caller's signal or the `callTimeout`, whichever aborts first. */
  const sendWork = async (
    target: ExecutorChild,
    call: ExecutorCall,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<unknown> => {
    throwIfAborted(what, signal);
    const limitMs = resolved.callTimeout;
    if (limitMs === undefined) return target.request(call, { what, signal });
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(callTimeoutError(what, limitMs)), limitMs);
    // A pending call already holds the process open; the timer alone never should.
    timer.unref();
    try {
      const stop = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
      return await target.request(call, { what, signal: stop });
    } finally {
      clearTimeout(timer);
    }
  };

  const arrays: GpuArrayHost = {
    send: sendWork,
    finalizer: new FinalizationRegistry(({ child: owner, handle }) => {
      // A forgotten array: free its memory if its process still runs. Nobody awaits this, so errors are dropped.
      if (owner.live) owner.request({ type: RequestType.Release, handle }).catch(() => undefined);
    }),
  };

  return {
    get pid() {
      return child?.pid;
    },
    async run<Args, Result>(kernel: GpuKernel<Args, Result>, args: Args, options: GpuRunOptions = {}): Promise<Result> {
      const spec: unknown = kernel.spec;
      if (!isKernelSpec(spec)) {
        throw new CeleriacError(
          ErrorCode.KernelInvalidArguments,
          'This kernel was not built by a builder of this @celeriac/gpu version (elementwise(), reduction(), ' +
            'inclusiveScan(), genericScan(), copyIf(), matmul()…). Build it with one of those.',
        );
      }
      const gpuArrays = gpuArraysIn(args);
      // Arguments are checked before any process starts; GpuArrays as their refs, then against the process.
      const { values, n } = resolveKernelArgs(spec, withRefs(args, gpuArrays));
      const range = options.range === undefined ? undefined : resolveKernelRange(spec, n, options.range);
      const what = `kernel "${spec.name}"`;
      throwIfAborted(what, options.signal); // before a process is started for nothing
      const target = currentChild();
      for (const array of gpuArrays.values()) array.refFor(target);
      const call = { type: RequestType.Run, spec, args: values, ...(range && { range }) } as const;
      return (await sendWork(target, call, what, options.signal)) as Result;
    },
    async upload<A extends KernelArray>(data: A, options: GpuArrayCallOptions = {}): Promise<GpuArray<DtypeOf<A>>> {
      const dtype = dtypeOf(data);
      throwIfAborted('upload', options.signal);
      const target = currentChild();
      const ref = (await sendWork(target, { type: RequestType.Upload, data, dtype }, 'upload', options.signal)) as DeviceArrayRef;
      return new DeviceArray<DtypeOf<A>>(arrays, target, ref);
    },
    async describe() {
      return (await currentChild().request({ type: RequestType.Describe })) as GpuCapability;
    },
    async stats() {
      const counters = (await currentChild().request({ type: RequestType.Stats })) as Omit<GpuExecutorStats, 'executorStarts'>;
      return { ...counters, executorStarts };
    },
    async close() {
      closed = true;
      await child?.close(resolved.closeTimeoutMs);
    },
  };
}

/** Rejects a call whose signal aborted before it was sent: nothing runs, so nothing is killed. */
function throwIfAborted(what: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortedCallError(what, signal.reason, undefined);
}

/** The `GpuArray`s among run arguments, by argument name. */
function gpuArraysIn(args: unknown): Map<string, DeviceArray<Dtype>> {
  const found = new Map<string, DeviceArray<Dtype>>();
  if (typeof args !== 'object' || args === null) return found;
  for (const [name, value] of Object.entries(args)) if (value instanceof DeviceArray) found.set(name, value);
  return found;
}

/** Run arguments with each `GpuArray` replaced by its ref, the form that crosses to the executor process. */
function withRefs(args: unknown, gpuArrays: ReadonlyMap<string, DeviceArray<Dtype>>): unknown {
  if (gpuArrays.size === 0) return args;
  return { ...(args as object), ...Object.fromEntries([...gpuArrays].map(([name, array]) => [name, array.ref])) };
}
