import { CeleriacError, ErrorCode } from '@celeriac/core';
import {
  resolveSandboxPoolOptions,
  type ResolvedSandboxPoolOptions,
  type SandboxPoolOptions,
} from './sandbox-pool-options.js';
import type { SandboxRun } from './sandbox-run.js';
import { ThreadHandle, type ThreadHandleOptions } from './thread-handle.js';

/** Counters from {@link SandboxPool.stats}. */
export interface SandboxPoolStats {
  /** Threads alive now (idle or busy). */
  readonly threads: number;
  /** Threads running a job now. */
  readonly busy: number;
  /** Threads started since the pool was created. */
  readonly started: number;
  /** Threads ended before close(): killed at a limit, died, or recycled (maxTasksPerThread, maxMemoryPerThreadMb). */
  readonly replaced: number;
  /** Runs that reached a thread and settled, whatever their outcome. */
  readonly completed: number;
}

/** Runs task handlers in worker threads, so they never block the worker's event loop (lease renewal, heartbeats). */
export interface SandboxPool {
  /**
   * Runs one job in a free thread, waiting for one if all `maxThreads` are busy. Resolves with the validated output.
   * Rejects with the task's error as thrown inside (same code, message, details and retry decision; other errors
   * become `CELERIAC_HANDLER_ERROR` with `details.name`), with `CELERIAC_TIME_LIMIT_EXCEEDED` at the hard limit, with
   * the abort reason when `signal` aborted (while waiting for a thread, or past `abortGraceMs`), or with
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
 * Creates a pool of worker threads that each load `tasksModule` and run one job at a time. Threads start on demand,
 * are reused, and are replaced when they hit a hard time limit, die, or reach `maxTasksPerThread` or
 * `maxMemoryPerThreadMb`. An idle pool never keeps the process alive.
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

/** A run waiting for a thread. */
interface Waiter {
  readonly run: SandboxRun;
  /** Starts the run on `thread`, which is now its own. */
  start(thread: ThreadHandle): void;
  reject(error: unknown): void;
}

class ThreadPool implements SandboxPool {
  private readonly threadOptions: ThreadHandleOptions;
  private readonly threads = new Set<ThreadHandle>();
  /** Idle threads; the last one freed is reused first, as its caches are the warmest. */
  private readonly idle: ThreadHandle[] = [];
  private readonly waiters: Waiter[] = [];
  /** Runs in threads (resolving once settled and released, whatever the outcome), for close() to wait on. */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counters = { started: 0, replaced: 0, completed: 0 };
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

  run(run: SandboxRun): Promise<unknown> {
    if (this.closing) return Promise.reject(poolClosedError(run));
    if (run.signal?.aborted === true) return Promise.reject(run.signal.reason);
    const thread = this.takeThread();
    return thread === undefined ? this.enqueue(run) : this.runOn(thread, run);
  }

  close(deadlineMs?: number): Promise<void> {
    this.closing ??= this.shutDown(deadlineMs);
    return this.closing;
  }

  stats(): SandboxPoolStats {
    return { threads: this.threads.size, busy: this.threads.size - this.idle.length, ...this.counters };
  }

  /** An idle thread, or a new one if fewer than maxThreads exist. */
  private takeThread(): ThreadHandle | undefined {
    const idle = this.idle.pop();
    if (idle !== undefined) return idle;
    return this.threads.size < this.options.maxThreads ? this.startThread() : undefined;
  }

  /**
   * Runs `run` on `thread`. Synchronous up to the hand-over, so a close() right after run() already sees the run in
   * flight. The caller's promise settles after the thread is released or retired, so stats() are current by then.
   */
  private runOn(thread: ThreadHandle, run: SandboxRun): Promise<unknown> {
    const settled = thread.run(run);
    const onSettled = (): void => {
      this.inFlight.delete(released);
      this.counters.completed += 1;
      this.release(thread);
    };
    const released = settled.then(onSettled, onSettled);
    this.inFlight.add(released);
    return released.then(() => settled);
  }

  /** Queues `run` until a thread is free. */
  private enqueue(run: SandboxRun): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const { signal } = run;
      // A job cancelled while it waits leaves the queue at once: it never took a thread, so there is nothing to stop.
      const onAbort = (): void => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        run,
        start: (thread) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.runOn(thread, run));
        },
        reject,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Puts a thread that finished a job back to work, or retires it if it is dead or due for recycling. */
  private release(thread: ThreadHandle): void {
    if (!this.threads.has(thread)) return;
    if (!thread.usable || this.isWornOut(thread)) {
      this.retire(thread);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter.start(thread);
    else this.idle.push(thread);
  }

  private isWornOut(thread: ThreadHandle): boolean {
    const { maxTasksPerThread, maxMemoryPerThreadMb } = this.options;
    if (maxTasksPerThread !== undefined && thread.tasksRun >= maxTasksPerThread) return true;
    return maxMemoryPerThreadMb !== undefined && thread.heapUsedBytes > maxMemoryPerThreadMb * 1024 * 1024;
  }

  /** Ends a thread (once, whoever asks first: its exit or the pool) and gives its place to a waiting run. */
  private retire(thread: ThreadHandle): void {
    if (!this.threads.delete(thread)) return;
    const idleAt = this.idle.indexOf(thread);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    this.counters.replaced += 1;
    void thread.terminate();
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter.start(this.startThread());
  }

  private startThread(): ThreadHandle {
    const thread = new ThreadHandle(this.threadOptions, (dead) => this.retire(dead));
    this.threads.add(thread);
    this.counters.started += 1;
    return thread;
  }

  private async shutDown(deadlineMs: number | undefined): Promise<void> {
    for (const waiter of this.waiters.splice(0)) waiter.reject(poolClosedError(waiter.run));
    await waitAtMost(Promise.all(this.inFlight), deadlineMs);
    const threads = [...this.threads];
    // Forgotten before they are killed, so their exits are not counted as replacements.
    this.threads.clear();
    this.idle.length = 0;
    for (const thread of threads) thread.kill(closedWhileRunningError(deadlineMs));
    await Promise.all(threads.map((thread) => thread.terminate()));
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

function closedWhileRunningError(deadlineMs: number | undefined): CeleriacError {
  return new CeleriacError(
    ErrorCode.WorkerLost,
    `The job was still running when this worker's sandbox pool closed (deadline ${deadlineMs} ms), so its thread ` +
      'was terminated. The job will run again on another worker; make the handler honour ctx.signal to stop sooner.',
    { details: { deadlineMs } },
  );
}
