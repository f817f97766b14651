import {
  CeleriacError,
  ErrorCode,
  type GpuKernel,
  type GpuRunner,
  type GpuRunOptions,
  type TaskContext,
  type TaskDefinition,
} from '@celeriac/core';
import { assertGpuDeclared } from '../assert-gpu-declared.js';
import type { ParentChannel } from './parent-channel.js';
import type { RunRequest } from './sandbox-protocol.js';

/**
 * The {@link TaskContext} a handler gets inside a sandbox thread. Everything that needs the worker (the job's log
 * and progress in Redis, the GPU executor) is a call to the parent over {@link ParentChannel}; `signal` is aborted
 * by the parent's `abort` messages (soft time limit, cancellation, shutdown), and made only if the handler reads it.
 */
export class ThreadTaskContext implements TaskContext {
  readonly jobId: string;
  readonly taskName: string;
  readonly attempt: number;
  readonly runId: number;
  private controller: AbortController | undefined;
  private abortReason: { readonly value: unknown } | undefined;

  constructor(
    run: RunRequest,
    private readonly task: TaskDefinition,
    private readonly channel: ParentChannel,
    private readonly hasGpu: boolean,
  ) {
    this.jobId = run.jobId;
    this.taskName = task.name;
    this.attempt = run.attempt;
    this.runId = run.runId;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason.value);
    }
    return this.controller.signal;
  }

  /** Aborts `signal` with `reason` (once). */
  abort(reason: unknown): void {
    if (this.abortReason) return;
    this.abortReason = { value: reason };
    this.controller?.abort(reason);
  }

  async log(line: string): Promise<void> {
    await this.channel.call(this.runId, { method: 'log', line });
  }

  async progress(value: number | Readonly<Record<string, unknown>>): Promise<void> {
    await this.channel.call(this.runId, { method: 'progress', value });
  }

  /** The worker's GPU, reached through the parent; refused the same way as outside a sandbox. */
  get gpu(): GpuRunner {
    assertGpuDeclared(this.task);
    if (!this.hasGpu) {
      throw new CeleriacError(
        ErrorCode.GpuUnavailable,
        `Task "${this.task.name}" used ctx.gpu, but this worker has no GPU configured. ` +
          'Run it on a GPU worker: route the task to a queue that only GPU workers consume.',
        { details: { task: this.task.name } },
      );
    }
    const { channel, runId } = this;
    return {
      // The handler's own signal stays in the thread (a signal cannot be cloned): the parent stops the call with the job.
      async run<Args, Result>(kernel: GpuKernel<Args, Result>, args: Args, options?: GpuRunOptions): Promise<Result> {
        const range = options?.range;
        return (await channel.call(runId, { method: 'gpu', spec: kernel.spec, args, ...(range && { range }) })) as Result;
      },
    };
  }
}
