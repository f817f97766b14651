import { ErrorCode, isCeleriacError, type GpuRunner } from '@celeriac/core';

/**
 * The failures that belong to the GPU executor, not to the kernel: the executor process died, or the device was
 * lost. The executor replaces the process or the device for the next call, so running the kernel again is likely
 * to succeed.
 */
const executorFailures = new Set<string>([ErrorCode.GpuExecutorCrashed, ErrorCode.GpuDeviceLost]);

/** Called before each rerun, so the worker can log it. */
export type GpuRerunListener = (error: Error, rerun: number, maxReruns: number) => void;

/**
 * Wraps a GPU runner so a kernel call whose executor crashed or whose device was lost runs again on the fresh
 * executor, up to `maxReruns` times, before the error reaches the handler.
 *
 * The rerun is of the kernel call, not of the job. A kernel is a pure function of its arguments, so running it
 * again is always safe, while rerunning the whole handler would repeat its other side effects. Past the bound
 * the retryable error reaches the handler, and the task's retry policy decides. The bound keeps a kernel that
 * crashes the driver every time from taking the executor down in a loop.
 */
export function rerunOnGpuFailure(runner: GpuRunner, maxReruns: number, onRerun: GpuRerunListener): GpuRunner {
  return {
    async run(kernel, args, options) {
      for (let rerun = 1; ; rerun++) {
        try {
          return await runner.run(kernel, args, options);
        } catch (error) {
          if (rerun > maxReruns || !isCeleriacError(error) || !executorFailures.has(error.code)) throw error;
          onRerun(error, rerun, maxReruns);
        }
      }
    },
  };
}
