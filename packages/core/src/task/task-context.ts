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

/** Runs kernels on the worker's GPU executor (a separate process that owns the device). */
export interface GpuRunner {
  /** Runs `kernel` on `args`, resolving when the result has been read back from the device. */
  run<Args, Result>(kernel: GpuKernel<Args, Result>, args: Args): Promise<Result>;
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
   * The worker's GPU. Only tasks that declare `resources: { gpu }` may use it; for others, and on workers without
   * an adapter, calling it fails with `CELERIAC_GPU_UNAVAILABLE`.
   */
  readonly gpu: GpuRunner;
}
