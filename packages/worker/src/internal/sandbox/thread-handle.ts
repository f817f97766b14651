import { Worker } from 'node:worker_threads';
import { CeleriacError, ErrorCode, deserializeError, serializeError, type GpuRunner } from '@celeriac/core';
import { armRunLimits, type RunLimits } from './run-limits.js';
import {
  encodeReason,
  type CallMessage,
  type ParentMessage,
  type SandboxThreadData,
  type ThreadMessage,
} from './sandbox-protocol.js';
import type { SandboxRun } from './sandbox-run.js';
import { collectTransferables } from './transferables.js';

/** How to start a sandbox thread. */
export interface ThreadHandleOptions {
  /** The compiled `sandbox-thread.js`. */
  readonly entry: URL;
  readonly data: SandboxThreadData;
  readonly gpu?: GpuRunner;
}

/** The job a thread runs now, and how to settle the caller's promise. */
interface ActiveRun {
  readonly runId: number;
  readonly run: SandboxRun;
  readonly limits: RunLimits;
  resolve(output: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { readonly ok: true; readonly output: unknown } | { readonly ok: false; readonly error: unknown };

/** Unique across threads, so a message can never be matched to the wrong job, even after a thread is replaced. */
let nextRunId = 1;

/**
 * The parent's side of one sandbox thread: starts it, runs one job at a time on it, answers the handler's context
 * calls, enforces the job's limits, and turns the thread's death into the job's failure. The thread is unref'd while
 * idle, so an idle pool never keeps the process alive, and ref'd while it runs a job.
 */
export class ThreadHandle {
  /** Jobs this thread ran, for `maxTasksPerThread`. */
  tasksRun = 0;
  /** The thread's V8 heap after its last job, for `maxMemoryPerThreadMb`. */
  heapUsedBytes = 0;
  /** Set once the thread said its tasks module is loaded; from then on it sends no `started` messages. */
  private warm = false;
  private readonly worker: Worker;
  private active: ActiveRun | undefined;
  private ended = false;
  private uncaught: Error | undefined;

  constructor(
    private readonly options: ThreadHandleOptions,
    private readonly onExit: (thread: ThreadHandle) => void,
  ) {
    const { entry, data } = options;
    this.worker = new Worker(entry, { workerData: data });
    this.worker.on('message', (message: ThreadMessage) => this.receive(message));
    // 'error' comes right before 'exit' when the thread dies of an uncaught error.
    this.worker.on('error', (error) => {
      this.uncaught = error;
    });
    this.worker.on('exit', (exitCode) => this.exited(exitCode));
    // After the listeners: adding a 'message' listener refs a Worker again, undoing an earlier unref().
    this.worker.unref();
  }

  /** Whether the thread can take another job: it neither died nor is being terminated. */
  get usable(): boolean {
    return !this.ended;
  }

  /**
   * Runs `run` on this thread, which must be idle. Resolves with the validated output; rejects with the task's error,
   * a time limit, the abort reason after the grace period, or `CELERIAC_SANDBOX_CRASHED` if the thread died.
   */
  run(run: SandboxRun): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const runId = nextRunId++;
      const { jobId, taskName, attempt, input } = run;
      this.post({ type: 'run', runId, jobId, taskName, attempt, input });
      // Armed after the run message: an already aborted signal sends its abort at once, and it must follow the run.
      const limits = armRunLimits(run, {
        abort: (reason) => this.post({ type: 'abort', runId, reason: encodeReason(reason) }),
        kill: (error) => {
          if (this.active?.runId === runId) this.kill(error);
        },
      });
      this.active = { runId, run, limits, resolve, reject };
      // A warm thread has its tasks loaded, so the handler starts right away: the limits count from now.
      if (this.warm) limits.started();
      this.worker.ref();
    });
  }

  /** Terminates the thread; the job it runs, if any, fails with `error`. */
  kill(error: unknown): void {
    this.finish({ ok: false, error });
    void this.terminate();
  }

  /** Terminates the thread (an idle one, or after {@link kill}); resolves once it is gone. */
  async terminate(): Promise<void> {
    this.ended = true;
    // terminate() stops even a synchronous loop: V8 interrupts the thread's isolate at its next safe point.
    await this.worker.terminate();
  }

  private receive(message: ThreadMessage): void {
    if (message.type === 'call') {
      void this.answer(message);
      return;
    }
    const active = this.active;
    if (active?.runId !== message.runId) return;
    if (message.type === 'started') {
      this.warm = true;
      active.limits.started();
      return;
    }
    this.heapUsedBytes = message.heapUsedBytes;
    this.finish(message.ok ? message : { ok: false, error: deserializeError(message.error) });
  }

  private finish(outcome: Outcome): void {
    const active = this.active;
    if (active === undefined) return;
    this.active = undefined;
    this.tasksRun += 1;
    active.limits.dispose();
    this.worker.unref();
    if (outcome.ok) active.resolve(outcome.output);
    else active.reject(outcome.error);
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
    const run = this.active?.runId === call.runId ? this.active.run : undefined;
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
        return this.options.gpu?.run({ spec: call.spec }, call.args) ?? Promise.reject(lateGpuCall());
    }
  }

  private post(message: ParentMessage, transfer: ArrayBuffer[] = []): void {
    // A message to a thread that is gone would be dropped anyway; its pending job has failed already.
    if (!this.ended) this.worker.postMessage(message, transfer);
  }

  private exited(exitCode: number): void {
    this.ended = true;
    this.finish({ ok: false, error: this.crashError(exitCode) });
    this.onExit(this);
  }

  private crashError(exitCode: number): CeleriacError {
    const run = this.active?.run;
    const why = this.uncaught?.message.replace(/\.$/, '') ?? `exit code ${exitCode}`;
    return new CeleriacError(
      ErrorCode.SandboxCrashed,
      `The sandbox thread running task "${run?.taskName}" (job "${run?.jobId}") died: ${why}. ` +
        'The worker replaced the thread and the job will be retried. ' +
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
