import { z } from 'zod';
import { resolveOptions, type GpuRunner } from '@celeriac/core';

/** What you pass to `createSandboxPool`. */
export interface SandboxPoolOptions {
  /** Absolute file path or `file:` URL of the JS module exporting the tasks; every thread loads it on its own. */
  readonly tasksModule: string | URL;
  /** Most threads alive at once (the worker's concurrency). Threads start on demand and are reused. */
  readonly maxThreads: number;
  /** Replace a thread after it ran this many jobs (Celery's `max_tasks_per_child`). Default: never. */
  readonly maxTasksPerThread?: number;
  /**
   * Replace a thread whose V8 heap, measured after each job, is above this many MiB. It bounds what jobs leave
   * behind, not what one job uses: a job that exhausts the process's memory takes the worker down, and its job is
   * then recovered as a lost attempt.
   * Default: no limit.
   */
  readonly maxMemoryPerThreadMb?: number;
  /**
   * Where handlers' `ctx.gpu.run()` calls go (the worker's GPU executor). Without it, `ctx.gpu` throws
   * `CELERIAC_GPU_UNAVAILABLE`. Typed arrays it resolves with are moved to the thread, not copied, so they are empty
   * here afterwards: resolve with fresh arrays, never with ones kept for later.
   */
  readonly gpu?: GpuRunner;
}

const sandboxPoolOptionsSchema = z
  .object({
    tasksModule: z.union([z.string().min(1), z.instanceof(URL)]),
    maxThreads: z.number().int().min(1).max(10_000),
    maxTasksPerThread: z.number().int().min(1).optional(),
    // Below ~16 MiB a thread cannot even load zod and a tasks module.
    maxMemoryPerThreadMb: z.number().int().min(16).optional(),
    gpu: z
      .custom<GpuRunner>((g) => typeof (g as Partial<GpuRunner> | null)?.run === 'function', 'expected a GpuRunner')
      .optional(),
  })
  .strict();

/** {@link SandboxPoolOptions} after validation; `tasksModule` as a string, since threads receive it cloned. */
export type ResolvedSandboxPoolOptions = Readonly<Omit<z.output<typeof sandboxPoolOptionsSchema>, 'tasksModule'>> & {
  readonly tasksModule: string;
};

/**
 * Validates sandbox pool options.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming the bad field (`sandbox.maxThreads: ...`)
 */
export function resolveSandboxPoolOptions(options: SandboxPoolOptions): ResolvedSandboxPoolOptions {
  const resolved = resolveOptions(sandboxPoolOptionsSchema, options, 'sandbox');
  return Object.freeze({ ...resolved, tasksModule: String(resolved.tasksModule) });
}
