import { CeleriacError, ErrorCode } from '@celeriac/core';
import {
  resolveSandboxPoolOptions,
  type ResolvedSandboxPoolOptions,
  type SandboxPoolOptions,
} from './sandbox-pool-options.js';
import { PendingRun, type RunHolder } from './pending-run.js';
import type { SandboxRun } from './sandbox-run.js';
import { ThreadHandle, type ThreadEvents, type ThreadHandleOptions } from './thread-handle.js';

/** Counters from {@link SandboxPool.stats}. */
export interface SandboxPoolStats {
  /** Threads alive now (idle or busy). */
  readonly threads: number;
  /** Threads with a job now. */
  readonly busy: number;
  /** Threads started since the pool was created. */
  readonly started: number;
  /**
   * Working threads ended before close(): killed at a limit, died, or recycled (maxTasksPerThread,
   * maxMemoryPerThreadMb). A thread that could not load the tasks module never worked, so it is not counted.
   */
  readonly replaced: number;
  /** Runs that reached a thread and settled, whatever their outcome. */
  readonly completed: number;
}

/** Runs task handlers in worker threads, so they never block the worker's event loop (lease renewal, heartbeats). */
export interface SandboxPool {
  /**
   * Starts all `maxThreads` threads and waits until each has loaded the tasks module; resolves with the names of its
   * tasks. From then on the pool keeps that many threads, replacing one as soon as it ends. Without start(), threads
   * start on demand.
   * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` when the module cannot be loaded (the pool is closed then)
   */
  start(): Promise<readonly string[]>;
  /**
   * Runs one job in a thread, waiting if all `maxThreads` are busy. Resolves with the validated output.
   * Rejects with the task's error as thrown inside (same code, message, details and retry decision; other errors
   * become `CELERIAC_HANDLER_ERROR` with `details.name`), with `CELERIAC_TIME_LIMIT_EXCEEDED` at the hard limit, with
   * the abort reason when the job was aborted (before it started, or past `abortGraceMs`), or with
   * `CELERIAC_SANDBOX_CRASHED` if the thread died. The pool replaces a killed or dead thread and keeps serving.
   */
  run(run: SandboxRun): Promise<unknown>;
  /**
   * Stops taking jobs: runs waiting for a thread, and any later run(), reject with `CELERIAC_WORKER_LOST`
   * (retryable: the job runs again elsewhere). Waits up to `deadlineMs` (default: as long as it takes) for the runs in
   * threads, fails those still going with `CELERIAC_WORKER_LOST`, and terminates every thread. Safe to call twice.
   */
  close(deadlineMs?: number): Promise<void>;
  /** Counters for tests and metrics. */
  stats(): SandboxPoolStats;
}

/**
 * Creates a pool of worker threads that each load `tasksModule` and run one job at a time. Threads start with
 * {@link SandboxPool.start} or on demand, are reused, and are replaced when they hit a hard time limit, die, or reach
 * `maxTasksPerThread` or `maxMemoryPerThreadMb`. An idle pool never keeps the process alive.
 *
 * @example
 * ```ts
 * const pool = createSandboxPool({ tasksModule: new URL('./tasks.js', import.meta.url), maxThreads: 4 });
 * const log = async (line: string) => console.log(line);
 * const progress = async (value: unknown) => console.log(value);
 * const run = { jobId: '1', taskName: 'add', attempt: 1, input: { x: 1, y: 2 }, hardLimitMs: 60_000, log, progress };
 * const output = await pool.run(run);
 * await pool.close(30_000);
 * ```
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` for bad options
 */
export function createSandboxPool(options: SandboxPoolOptions): SandboxPool {
  return new ThreadPool(resolveSandboxPoolOptions(options));
}

/**
 * How many jobs a thread may hold: the running one and those queued behind it. Queuing lets the thread start its
 * next job without a round trip to the parent, and lets the parent send a tick's jobs in one message; both matter
 * most when the parent is busy. A job queued behind a long one is not stuck there: a thread that runs out of work
 * takes queued jobs from the busiest thread.
 */
const maxRunsPerThread = 16;

class ThreadPool implements SandboxPool, RunHolder, ThreadEvents {
  private readonly threadOptions: ThreadHandleOptions;
  private readonly threads: ThreadHandle[] = [];
  /** Runs no thread can take yet (all are full or starting), oldest first. */
  private readonly waiting: PendingRun[] = [];
  /** Runs not settled yet, wherever they are, for close() to wait on. */
  private readonly unsettled = new Set<PendingRun>();
  private readonly counters = { started: 0, replaced: 0, completed: 0 };
  /** Set by start(): the pool then keeps `maxThreads` threads, replacing one as soon as it ends. */
  private warm = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ResolvedSandboxPoolOptions) {
    const { tasksModule, gpu } = options;
    // No resourceLimits heap cap: V8 sometimes handles a thread's out-of-memory as fatal for the whole process, so a
    // cap would promise an isolation it cannot keep. Memory is bounded by recycling between jobs instead.
    this.threadOptions = {
      // Relative to this file, so it works from dist/ wherever the package is installed.
      entry: new URL('./sandbox-thread.js', import.meta.url),
      data: { tasksModule, hasGpu: gpu !== undefined },
      ...(gpu !== undefined && { gpu }),
    };
  }

  async start(): Promise<readonly string[]> {
    this.warm = true;
    while (this.threads.length < this.options.maxThreads) this.startThread();
    try {
      const [tasks] = await Promise.all(this.threads.map((thread) => thread.ready));
      return tasks ?? [];
    } catch (error) {
      await this.close(0);
      throw error;
    }
  }

  run(run: SandboxRun): Promise<unknown> {
    const pending = new PendingRun(run);
    if (this.closing) pending.settle({ ok: false, error: poolClosedError(run) });
    else if (pending.abortReason) pending.settle({ ok: false, error: pending.abortReason.value });
    else {
      this.unsettled.add(pending);
      const forget = (): void => {
        this.unsettled.delete(pending);
        if (pending.started) this.counters.completed += 1;
      };
      pending.promise.then(forget, forget);
      this.place(pending);
    }
    return pending.promise;
  }

  close(deadlineMs?: number): Promise<void> {
    this.closing ??= this.shutDown(deadlineMs);
    return this.closing;
  }

  stats(): SandboxPoolStats {
    const busy = this.threads.filter((thread) => thread.load > 0).length;
    return { threads: this.threads.length, busy, ...this.counters };
  }

  /** A run left the wait list because it was aborted there. */
  abortRun(run: PendingRun): void {
    const at = this.waiting.indexOf(run);
    if (at >= 0) this.waiting.splice(at, 1);
    run.holder = undefined;
    run.settle({ ok: false, error: run.abortReason?.value });
  }

  freed(thread: ThreadHandle): void {
    if (!thread.usable) {
      // Killed or dying: it leaves the pool now, so the caller sees current stats; its queued jobs come back on exit.
      this.retire(thread);
      return;
    }
    if (this.isWornOut(thread)) {
      // Its queued jobs go elsewhere; it retires once its running job is done.
      thread.withdraw(thread.queued);
      if (thread.load === 0) this.retire(thread);
      return;
    }
    while (this.waiting.length > 0 && this.hasRoom(thread)) thread.assign(this.waiting.shift()!);
    if (thread.load === 0) this.steal(thread);
  }

  returned(runs: readonly PendingRun[]): void {
    for (const run of [...runs].reverse()) this.place(run, { first: true });
  }

  exited(thread: ThreadHandle, unstarted: readonly PendingRun[]): void {
    this.retire(thread);
    this.returned(unstarted);
    if (this.closing || this.threads.length >= this.options.maxThreads) return;
    // A thread that never loaded the module is replaced only for waiting runs: a module that broke after start()
    // would otherwise restart threads in a hot loop.
    if ((this.warm && thread.loaded) || this.waiting.length > this.startingThreads()) this.startThread();
  }

  /**
   * Gives `run` to the least loaded ready thread that has room, else to the wait list (at its head for a run that was
   * given back, which is older than those waiting). Starts another thread when every ready one is busy.
   */
  private place(run: PendingRun, { first = false } = {}): void {
    if (this.closing) {
      run.settle({ ok: false, error: poolClosedError(run.run) });
      return;
    }
    let best: ThreadHandle | undefined;
    for (const thread of this.threads) {
      if (this.hasRoom(thread) && (best === undefined || thread.load < best.load)) best = thread;
    }
    const canGrow = this.threads.length < this.options.maxThreads;
    if (best !== undefined && (best.load === 0 || !canGrow)) {
      best.assign(run);
      return;
    }
    // Every thread is busy but the pool may grow: the run waits for whichever thread is free first, a new one included.
    run.holder = this;
    if (first) this.waiting.unshift(run);
    else this.waiting.push(run);
    if (canGrow && this.waiting.length > this.startingThreads()) this.startThread();
  }

  private hasRoom(thread: ThreadHandle): boolean {
    if (!thread.usable || this.isWornOut(thread)) return false;
    const { maxTasksPerThread } = this.options;
    const budget = maxTasksPerThread === undefined ? maxRunsPerThread : maxTasksPerThread - thread.tasksRun;
    return thread.load < Math.min(maxRunsPerThread, budget);
  }

  private isWornOut(thread: ThreadHandle): boolean {
    const { maxTasksPerThread, maxMemoryPerThreadMb } = this.options;
    if (maxTasksPerThread !== undefined && thread.tasksRun >= maxTasksPerThread) return true;
    return maxMemoryPerThreadMb !== undefined && thread.heapUsedBytes > maxMemoryPerThreadMb * 1024 * 1024;
  }

  /** An idle thread takes half the queued jobs of the busiest thread, so no job waits behind a long one. */
  private steal(idle: ThreadHandle): void {
    let busiest: ThreadHandle | undefined;
    for (const thread of this.threads) {
      if (thread !== idle && thread.queued > (busiest?.queued ?? 0)) busiest = thread;
    }
    // The runs come back through returned(), and the idle thread, now the least loaded, takes them.
    busiest?.withdraw(Math.ceil(busiest.queued / 2));
  }

  private startingThreads(): number {
    return this.threads.filter((thread) => thread.starting).length;
  }

  private startThread(): void {
    const thread = new ThreadHandle(this.threadOptions, this);
    this.threads.push(thread);
    this.counters.started += 1;
    thread.ready.then(
      () => this.freed(thread),
      (error: unknown) => this.failWaiting(error),
    );
  }

  /** A new thread could not load the tasks module: the runs waiting for it fail (retryably) instead of waiting on. */
  private failWaiting(cause: unknown): void {
    const reason = cause instanceof Error ? cause.message : String(cause);
    for (const run of this.waiting.splice(0)) {
      run.holder = undefined;
      run.settle({ ok: false, error: threadStartError(run.run, reason, cause) });
    }
  }

  /** Removes a thread from the pool (once, whoever asks first: its exit or the pool) and terminates it. */
  private retire(thread: ThreadHandle): void {
    const at = this.threads.indexOf(thread);
    if (at < 0) return;
    this.threads.splice(at, 1);
    // Only loaded threads: how the exit of one that failed to load falls against start()'s close is a matter of timing.
    if (!this.closing && thread.loaded) this.counters.replaced += 1;
    void thread.terminate();
  }

  private async shutDown(deadlineMs: number | undefined): Promise<void> {
    for (const run of this.waiting.splice(0)) run.settle({ ok: false, error: poolClosedError(run.run) });
    // Queued jobs come back unstarted and are refused by place(), since the pool is closing.
    for (const thread of this.threads) thread.withdraw(thread.queued);
    await waitAtMost(Promise.allSettled([...this.unsettled].map((run) => run.promise)), deadlineMs);
    const threads = this.threads.splice(0);
    for (const thread of threads) thread.kill(closedWhileRunningError(deadlineMs));
    await Promise.all(threads.map((thread) => thread.terminate()));
    // Runs still queued in a killed thread are given back by its exit, and refused by place().
  }
}
/** Waits for `promise`, or `deadlineMs` if that comes first; with no deadline, as long as it takes. */
async function waitAtMost(promise: Promise<unknown>, deadlineMs: number | undefined): Promise<void> {
  if (deadlineMs === undefined) {
    await promise;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
  await Promise.race([promise, deadline]);
  clearTimeout(timer);
}

function poolClosedError(run: SandboxRun): CeleriacError {
  return new CeleriacError(
    ErrorCode.WorkerLost,
    `Task "${run.taskName}" (job "${run.jobId}") did not start: this worker's sandbox pool is closing. ` +
      'The job will run again on another worker.',
    { details: { task: run.taskName, jobId: run.jobId } },
  );
}

function threadStartError(run: SandboxRun, reason: string, cause: unknown): CeleriacError {
  return new CeleriacError(
    ErrorCode.SandboxCrashed,
    `Task "${run.taskName}" (job "${run.jobId}") did not start: a new sandbox thread could not load the tasks ` +
      `module (${reason.replace(/\.$/, '')}). The job will be retried; check that the module is still deployed.`,
    { details: { task: run.taskName, jobId: run.jobId }, cause },
  );
}

function closedWhileRunningError(deadlineMs: number | undefined): CeleriacError {
  return new CeleriacError(
    ErrorCode.WorkerLost,
    `The job was still running when this worker's sandbox pool closed (deadline ${deadlineMs} ms), so its thread ` +
      'was terminated. The job will run again on another worker; make the handler honour ctx.signal to stop sooner.',
    { details: { deadlineMs } },
  );
}
