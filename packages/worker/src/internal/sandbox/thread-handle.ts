import { Worker } from 'node:worker_threads';
import { CeleriacError, ErrorCode, deserializeError, serializeError, type GpuRunner } from '@celeriac/core';
import type { PendingRun, RunHolder, RunLimitActions } from './pending-run.js';
import {
  encodeReason,
  type CallMessage,
  type DoneMessage,
  type ParentMessage,
  type RunRequest,
  type SandboxThreadData,
  type ThreadMessage,
} from './sandbox-protocol.js';
import { collectTransferables } from './transferables.js';

/** How to start a sandbox thread. */
export interface ThreadHandleOptions {
  /** The compiled `sandbox-thread.js`. */
  readonly entry: URL;
  readonly data: SandboxThreadData;
  readonly gpu?: GpuRunner;
}

/** What a thread tells its pool. */
export interface ThreadEvents {
  /** A run left the thread (settled or given back): it may take more, or retire. */
  freed(thread: ThreadHandle): void;
  /** Queued runs the thread gave back unstarted (after {@link ThreadHandle.withdraw}), to run elsewhere. */
  returned(runs: readonly PendingRun[]): void;
  /** The thread is gone (it died, or was terminated); `unstarted` are its queued runs, to run elsewhere. */
  exited(thread: ThreadHandle, unstarted: readonly PendingRun[]): void;
}

/**
 * The parent's side of one sandbox thread. The thread has a queue: it runs the first job and starts the next as soon
 * as one is done, without waiting for the parent. Runs assigned in the same tick travel in one message. This handle
 * mirrors the queue, so it knows which job runs (its time limits count from the moment the previous one was
 * reported done), answers the handlers' context calls, and turns the thread's death into the running job's failure.
 * The thread keeps the process alive while it loads the tasks module or has a job, and only then, so an idle pool
 * never keeps the process alive.
 */
export class ThreadHandle implements RunHolder {
  /** Jobs this thread ran, for `maxTasksPerThread`. */
  tasksRun = 0;
  /** The thread's V8 heap after its last job, for `maxMemoryPerThreadMb`. */
  heapUsedBytes = 0;
  /** Resolves with the names of the module's tasks once the thread loaded it; rejects if it could not. */
  readonly ready: Promise<readonly string[]>;
  /** Jobs assigned to this thread, in its queue's order. Once the thread is ready, the first one is running. */
  private readonly runs: PendingRun[] = [];
  /** Runs asked back by {@link withdraw} and not yet answered for. */
  private readonly withdrawing = new Set<PendingRun>();
  /** Runs assigned this tick, sent together by {@link flush}. */
  private outbox: RunRequest[] = [];
  private readonly worker: Worker;
  /** Stops the GPU calls of this thread's jobs when it is killed; a thread is killed at most once. */
  private readonly gpuStop = new AbortController();
  private isReady = false;
  private ended = false;
  private uncaught: Error | undefined;
  private markReady!: (tasks: readonly string[]) => void;
  private failReady!: (error: unknown) => void;

  constructor(
    private readonly options: ThreadHandleOptions,
    private readonly events: ThreadEvents,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    // Whoever awaits it sees the failure; a thread that nobody awaited and that failed is simply retired.
    this.ready.catch(() => {});
    const { entry, data } = options;
    this.worker = new Worker(entry, { workerData: data });
    this.worker.on('message', (message: ThreadMessage) => this.receive(message));
    // 'error' comes right before 'exit' when the thread dies of an uncaught error.
    this.worker.on('error', (error) => {
      this.uncaught = error;
    });
    this.worker.on('exit', (exitCode) => this.exited(exitCode));
  }

  /** Whether the thread can run jobs: it is ready, and neither died nor is being terminated. */
  get usable(): boolean {
    return this.isReady && !this.ended;
  }

  /** Whether the thread loaded the tasks module (it may have ended since). */
  get loaded(): boolean {
    return this.isReady;
  }

  /** Whether the thread is still loading the tasks module. */
  get starting(): boolean {
    return !this.isReady && !this.ended;
  }

  /** Jobs assigned to this thread: the running one and those queued behind it. */
  get load(): number {
    return this.runs.length;
  }

  /** Queued jobs that could still be given back to run elsewhere. */
  get queued(): number {
    return Math.max(0, this.runs.length - 1 - this.withdrawing.size);
  }

  /** Appends `run` to this thread's queue; it starts at once if the thread is idle. The thread must be usable. */
  assign(run: PendingRun): void {
    run.holder = this;
    this.runs.push(run);
    this.outbox.push(run.request);
    // Sent after this tick's I/O, with the other jobs assigned meanwhile: waking a sleeping thread costs more CPU
    // than the message itself, so one wake per batch rather than per job is most of the saving.
    if (this.outbox.length === 1) setImmediate(() => this.flush());
    if (this.runs.length === 1) {
      this.worker.ref();
      this.startHead();
    }
  }

  /** Asks the thread to give back up to `count` of its queued jobs, the last ones first. */
  withdraw(count: number): void {
    const taken = this.runs.slice(1).filter((run) => !this.withdrawing.has(run)).slice(-count);
    if (taken.length === 0) return;
    for (const run of taken) this.withdrawing.add(run);
    // The runs may still be in the outbox: they must reach the thread before it is asked for them back.
    this.flush();
    this.post({ type: 'withdraw', runIds: taken.map((run) => run.runId) });
  }

  abortRun(run: PendingRun): void {
    this.flush();
    this.post({ type: 'abort', runId: run.runId, reason: encodeReason(run.abortReason?.value) });
  }

  /** Terminates the thread; the job it runs, if any, fails with `error`, and its queued ones go elsewhere. */
  kill(error: unknown): void {
    // Ended first, so the next job in the queue is not started on a thread that is going away.
    this.ended = true;
    // A kernel the killed job started would go on holding the GPU: its call stops too (the executor is replaced).
    this.gpuStop.abort(error);
    this.settleHead({ ok: false, error });
    void this.terminate();
    this.events.freed(this);
  }

  /** Terminates the thread; resolves once it is gone. */
  async terminate(): Promise<void> {
    this.ended = true;
    // terminate() stops even a synchronous loop: V8 interrupts the thread's isolate at its next safe point.
    await this.worker.terminate();
  }

  private flush(): void {
    if (this.outbox.length === 0) return;
    const runs = this.outbox;
    this.outbox = [];
    this.post({ type: 'runs', runs });
  }

  /** The first job of the queue is now running: its limits count from here. */
  private startHead(): void {
    const head = this.runs[0];
    if (head === undefined) return;
    this.withdrawing.delete(head);
    const { runId } = head;
    const actions: RunLimitActions = {
      abort: (reason) => this.post({ type: 'abort', runId, reason: encodeReason(reason) }),
      kill: (error) => {
        if (this.runs[0] === head) this.kill(error);
      },
    };
    head.start(actions);
  }

  private receive(message: ThreadMessage): void {
    switch (message.type) {
      case 'ready':
        if (message.ok) {
          this.isReady = true;
          if (this.runs.length === 0) this.worker.unref();
          this.markReady(message.tasks);
        } else {
          this.failReady(deserializeError(message.error));
          void this.terminate();
        }
        return;
      case 'call':
        void this.answer(message);
        return;
      case 'done':
        this.done(message);
        return;
      case 'withdrawn':
        this.givenBack(message.runIds);
        return;
    }
  }

  private done(message: DoneMessage): void {
    // Only the running job reports done, and messages keep their order, so it is the head of the mirror.
    if (this.runs[0]?.runId !== message.runId) return;
    this.heapUsedBytes = message.heapUsedBytes;
    this.settleHead(message.ok ? message : { ok: false, error: deserializeError(message.error) });
    this.events.freed(this);
  }

  /** Settles the running job; the thread has started the next one in its queue, if any. */
  private settleHead(outcome: { ok: true; output: unknown } | { ok: false; error: unknown }): void {
    const head = this.runs.shift();
    if (head === undefined) return;
    this.tasksRun += 1;
    head.holder = undefined;
    head.settle(outcome);
    if (this.runs.length === 0) this.worker.unref();
    else if (!this.ended) this.startHead();
  }

  private givenBack(runIds: readonly number[]): void {
    const ids = new Set(runIds);
    const returned: PendingRun[] = [];
    for (let at = this.runs.length - 1; at >= 1; at--) {
      const run = this.runs[at]!;
      if (!ids.has(run.runId)) continue;
      this.runs.splice(at, 1);
      this.withdrawing.delete(run);
      run.holder = undefined;
      // Dropped because it was aborted while it waited: it never started, so it ends with the abort's reason.
      if (run.abortReason) run.settle({ ok: false, error: run.abortReason.value });
      else returned.unshift(run);
    }
    if (returned.length > 0) this.events.returned(returned);
    this.events.freed(this);
  }

  /** Answers a context call. Result buffers are transferred: they were made for this reply, nobody here keeps them. */
  private async answer(call: CallMessage): Promise<void> {
    try {
      const value = await this.perform(call);
      this.post({ type: 'reply', callId: call.callId, ok: true, value }, collectTransferables(value));
    } catch (error) {
      // Also reached when the value cannot be cloned: the handler gets the DataCloneError as its call's failure.
      this.post({ type: 'reply', callId: call.callId, ok: false, error: serializeError(error) });
    }
  }

  private perform(call: CallMessage): Promise<unknown> {
    const running = this.runs[0];
    const run = running?.runId === call.runId ? running.run : undefined;
    if (run === undefined) {
      // A call made after its handler settled: the job's record is final. A late log line is dropped rather than
      // failed, since a rejection nobody awaits would crash the thread under whatever job it runs by then.
      return call.method === 'gpu' ? Promise.reject(lateGpuCall()) : Promise.resolve();
    }
    switch (call.method) {
      case 'log':
        return run.log(call.line);
      case 'progress':
        return run.progress(call.value);
      case 'gpu':
        // The thread only asks when the pool has a GPU runner; see SandboxThreadData.hasGpu.
        return (
          this.options.gpu?.run({ spec: call.spec }, call.args, { signal: this.gpuStop.signal, ...(call.range && { range: call.range }) }) ??
          Promise.reject(lateGpuCall())
        );
    }
  }

  private post(message: ParentMessage, transfer: ArrayBuffer[] = []): void {
    // A message to a thread that is gone would be dropped anyway; its jobs are failed or given back on its exit.
    if (!this.ended) this.worker.postMessage(message, transfer);
  }

  private exited(exitCode: number): void {
    this.ended = true;
    const crash = this.crashError(exitCode);
    this.failReady(crash);
    // After kill() the first job left is queued, not running: only a running one dies with the thread.
    if (this.runs[0]?.started === true) this.settleHead({ ok: false, error: crash });
    const unstarted = this.runs.splice(0);
    for (const run of unstarted) run.holder = undefined;
    this.withdrawing.clear();
    this.events.exited(this, unstarted);
  }

  private crashError(exitCode: number): CeleriacError {
    const run = this.runs[0]?.run;
    const why = this.uncaught?.message.replace(/\.$/, '') ?? `exit code ${exitCode}`;
    const what = run ? `running task "${run.taskName}" (job "${run.jobId}")` : 'loading the tasks module';
    return new CeleriacError(
      ErrorCode.SandboxCrashed,
      `The sandbox thread ${what} died: ${why}. The worker replaced the thread and the job will be retried. ` +
        'Look for errors thrown outside the handler’s promise (timers, event handlers) and for process.exit().',
      { details: { exitCode, ...(this.uncaught && { error: this.uncaught.message }) } },
    );
  }
}

function lateGpuCall(): CeleriacError {
  return new CeleriacError(
    ErrorCode.GpuUnavailable,
    'A ctx.gpu.run() call arrived after its job had finished, or on a worker without a GPU. Await it in the handler.',
  );
}
