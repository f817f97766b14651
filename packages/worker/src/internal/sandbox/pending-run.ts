import { CeleriacError, ErrorCode } from '@celeriac/core';
import type { RunRequest } from './sandbox-protocol.js';
import type { SandboxRun } from './sandbox-run.js';

/** What a run's limits may do to the thread running it; the thread handle implements these. */
export interface RunLimitActions {
  /** Aborts the handler's `ctx.signal` with `reason`; the handler may still finish. */
  abort(reason: unknown): void;
  /** Terminates the thread and fails the run with `error`. */
  kill(error: unknown): void;
}

/** Whoever holds a run that has not settled (the pool's wait list, or a thread), told when the run is aborted. */
export interface RunHolder {
  abortRun(run: PendingRun): void;
}

/** Unique across threads, so a message can never be matched to the wrong job, even after a thread is replaced. */
let nextRunId = 1;

/**
 * One job handed to the sandbox pool, from `run()` until it settles, wherever it waits meanwhile: in the pool's wait
 * list, in a thread's queue, or running. It owns the job's time limits, which count from {@link start}, and follows
 * the job's external abort wherever the job is.
 */
export class PendingRun {
  readonly runId = nextRunId++;
  readonly promise: Promise<unknown>;
  /** Who holds the run now; told of an external abort. */
  holder: RunHolder | undefined;
  /** Set once the job was aborted from outside (cancellation, shutdown). */
  abortReason: { readonly value: unknown } | undefined;
  private resolve!: (output: unknown) => void;
  private reject!: (error: unknown) => void;
  private actions: RunLimitActions | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private settled = false;

  constructor(readonly run: SandboxRun) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    run.onAbort?.((reason) => this.aborted(reason));
  }

  /** What the thread needs to run the job. */
  get request(): RunRequest {
    const { jobId, taskName, attempt, input } = this.run;
    return { runId: this.runId, jobId, taskName, attempt, input };
  }

  /** Whether the handler has started (its thread is running it). */
  get started(): boolean {
    return this.actions !== undefined;
  }

  /** The handler starts now: the soft and hard limits count from here, and an earlier abort's grace period too. */
  start(actions: RunLimitActions): void {
    this.actions = actions;
    const { softLimitMs, hardLimitMs } = this.run;
    if (softLimitMs !== undefined) {
      this.timers.push(setTimeout(() => actions.abort(this.timeLimitError('soft', softLimitMs)), softLimitMs));
    }
    if (hardLimitMs !== undefined) {
      this.timers.push(setTimeout(() => actions.kill(this.timeLimitError('hard', hardLimitMs)), hardLimitMs));
    }
    if (this.abortReason) this.startGrace(this.abortReason.value);
  }

  /** Settles the caller's promise (the first outcome wins) and clears every timer. */
  settle(outcome: { readonly ok: true; readonly output: unknown } | { readonly ok: false; readonly error: unknown }): void {
    if (this.settled) return;
    this.settled = true;
    for (const timer of this.timers) clearTimeout(timer);
    if (outcome.ok) this.resolve(outcome.output);
    else this.reject(outcome.error);
  }

  private aborted(reason: unknown): void {
    if (this.settled || this.abortReason) return;
    this.abortReason = { value: reason };
    if (this.started) this.startGrace(reason);
    this.holder?.abortRun(this);
  }

  /** A handler that ignores the abort is let go after `abortGraceMs`: its thread is terminated. */
  private startGrace(reason: unknown): void {
    const { abortGraceMs } = this.run;
    const { actions } = this;
    if (abortGraceMs !== undefined && actions) this.timers.push(setTimeout(() => actions.kill(reason), abortGraceMs));
  }

  private timeLimitError(limit: 'soft' | 'hard', limitMs: number): CeleriacError {
    const { taskName, jobId } = this.run;
    const what =
      limit === 'soft'
        ? 'its signal was aborted so it can clean up and stop'
        : 'its sandbox thread was terminated and replaced';
    return new CeleriacError(
      ErrorCode.TimeLimitExceeded,
      `Task "${taskName}" (job "${jobId}") ran past its ${limit} time limit of ${limitMs} ms, so ${what}. ` +
        'Raise the limit, make the handler honour ctx.signal, or split the work into smaller jobs.',
      { details: { limit, limitMs } },
    );
  }
}
