import { CeleriacError, ErrorCode, type GpuCapability, type GpuKernel, type GpuRunner } from '@celeriac/core';
import { isKernelSpec } from '../kernels/kernel-spec.js';
import { resolveKernelArgs } from '../kernels/resolve-kernel-args.js';
import { ExecutorChild } from './executor-child.js';
import { RequestType } from './executor-protocol.js';
import { resolveGpuExecutorOptions, type GpuExecutorOptions } from './gpu-executor-options.js';

/** Counters from {@link GpuExecutor.stats}: whether the pipeline cache works, and how often the process restarted. */
export interface GpuExecutorStats {
  /** Kernels compiled by the current executor process (one shader module and its pipelines each). */
  readonly pipelinesCompiled: number;
  /** Runs of the current process that found their kernel already compiled. */
  readonly pipelineCacheHits: number;
  /** Runs the current process started. */
  readonly runs: number;
  /** Devices the current process acquired: more than 1 means a device was lost and replaced. */
  readonly devicesAcquired: number;
  /** Executor processes this executor started: more than 1 means one crashed or was killed and was replaced. */
  readonly executorStarts: number;
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
   *   `CELERIAC_GPU_EXECUTOR_CRASHED` (both retryable; the next call gets a fresh device or process)
   */
  run<Args, Result>(kernel: GpuKernel<Args, Result>, args: Args): Promise<Result>;
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

  return {
    get pid() {
      return child?.pid;
    },
    async run<Args, Result>(kernel: GpuKernel<Args, Result>, args: Args): Promise<Result> {
      const spec: unknown = kernel.spec;
      if (!isKernelSpec(spec)) {
        throw new CeleriacError(
          ErrorCode.KernelInvalidArguments,
          'This kernel was not built by elementwise() or reduction() of this @celeriac/gpu version. Build it with those.',
        );
      }
      const { values } = resolveKernelArgs(spec, args);
      return (await currentChild().request({ type: RequestType.Run, spec, args: values })) as Result;
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
