/**
 * A compute kernel that can run on a GPU worker. `@celeriac/gpu`'s builders (`elementwise`, `reduction`) make these;
 * core only knows the shape, so handlers can be typed without importing WebGPU.
 *
 * @typeParam Args - what the kernel takes (typed arrays and scalars by name)
 * @typeParam Result - what it resolves to
 */
export interface GpuKernel<Args, Result> {
  /** The serialisable description the GPU executor compiles; opaque outside `@celeriac/gpu`. */
  readonly spec: Readonly<Record<string, unknown>>;
  /** Phantom types only, never set at run time. */
  readonly types?: { readonly args: Args; readonly result: Result };
}

/**
 * The indices an elementwise kernel runs its operation for, like a Python `range` (PyOpenCL's `range=` argument):
 * `i = start, start + step, …` while `i < stop`. Elements of an `out` array the range skips are 0.
 */
export interface KernelRange {
  /** The first index. Default 0. */
  readonly start?: number;
  /** One past the last index, at most the element count `n`. Default `n`. */
  readonly stop?: number;
  /** The distance between indices, at least 1. Default 1. */
  readonly step?: number;
}

/** Options of one kernel call. */
export interface GpuRunOptions {
  /**
   * Stops the call. A dispatch cannot be cancelled on the GPU, so the executor process is killed and replaced, and
   * the call rejects with the signal's reason when it is a celeriac error (`CELERIAC_TIME_LIMIT_EXCEEDED` at a
   * task's hard limit), else with `CELERIAC_JOB_CANCELLED`; the process's other pending calls reject with
   * `CELERIAC_GPU_EXECUTOR_CRASHED` (retryable). Meant for kernels that must not outlive their job.
   */
  readonly signal?: AbortSignal;
  /** Runs an elementwise kernel's operation for these indices only, instead of every index `0 … n-1`. */
  readonly range?: KernelRange;
}

/** Runs kernels on the worker's GPU executor (a separate process that owns the device). */
export interface GpuRunner {
  /** Runs `kernel` on `args`, resolving when the result has been read back from the device. */
  run<Args, Result>(kernel: GpuKernel<Args, Result>, args: Args, options?: GpuRunOptions): Promise<Result>;
}

/** What a handler receives beside its input: who it is, how to stop, and the resources it asked for. */
export interface TaskContext {
  /** The job's id. */
  readonly jobId: string;
  /** The task's name. */
  readonly taskName: string;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** Aborts when the job must stop (the worker shuts down past its deadline). Pass it to fetch and friends. */
  readonly signal: AbortSignal;
  /** Appends a line to the job's log. */
  log(line: string): Promise<void>;
  /**
   * Reports progress: a number (e.g. percent done) or a small JSON object (`{ rows: 120, of: 900 }`). The latest
   * value is on the job (`job.progress`, `GET /v1/jobs/:id`), and each report is an event clients can follow.
   */
  progress(value: number | Readonly<Record<string, unknown>>): Promise<void>;
  /**
   * The worker's GPU. Only tasks that declare `resources: { gpu }` may use it; for others it fails with
   * `CELERIAC_GPU_UNAVAILABLE`. Workers without an adapter do not take such tasks' jobs at all (they stay queued for
   * a capable worker), so a handler sees that error only if the adapter went away after the worker started.
   */
  readonly gpu: GpuRunner;
}
