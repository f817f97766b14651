import { CeleriacError, ErrorCode } from '@celeriac/core';
import type { SandboxRun } from './sandbox-run.js';

/** What the limits of a run may do to it; the thread handle implements these. */
export interface RunLimitActions {
  /** Aborts the handler's `ctx.signal` with `reason`; the handler may still finish. */
  abort(reason: unknown): void;
  /** Terminates the thread and fails the run with `error`. */
  kill(error: unknown): void;
}

/** The timers and listener of one run, from {@link armRunLimits}. */
export interface RunLimits {
  /** The handler starts now (its module is loaded): the soft and hard limits count from here. */
  started(): void;
  /** Clears every timer and listener; call once the run settled, however it did. */
  dispose(): void;
}

/**
 * Arms the limits of `run`. An external abort is watched from the start, so a job cancelled while its thread was
 * still loading the tasks module is aborted too. The time limits wait for {@link RunLimits.started}, so a freshly
 * started thread's module load does not eat into a job's time.
 */
export function armRunLimits(run: SandboxRun, actions: RunLimitActions): RunLimits {
  const timers: NodeJS.Timeout[] = [];
  const onAbort = (): void => {
    const reason: unknown = run.signal?.reason;
    actions.abort(reason);
    if (run.abortGraceMs !== undefined) timers.push(setTimeout(() => actions.kill(reason), run.abortGraceMs));
  };
  if (run.signal?.aborted === true) onAbort();
  else run.signal?.addEventListener('abort', onAbort, { once: true });

  return {
    started() {
      const { softLimitMs, hardLimitMs } = run;
      if (softLimitMs !== undefined) {
        timers.push(setTimeout(() => actions.abort(timeLimitError(run, 'soft', softLimitMs)), softLimitMs));
      }
      if (hardLimitMs !== undefined) {
        timers.push(setTimeout(() => actions.kill(timeLimitError(run, 'hard', hardLimitMs)), hardLimitMs));
      }
    },
    dispose() {
      for (const timer of timers) clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
    },
  };
}

function timeLimitError(run: SandboxRun, limit: 'soft' | 'hard', limitMs: number): CeleriacError {
  const what =
    limit === 'soft'
      ? 'its signal was aborted so it can clean up and stop'
      : 'its sandbox thread was terminated and replaced';
  return new CeleriacError(
    ErrorCode.TimeLimitExceeded,
    `Task "${run.taskName}" (job "${run.jobId}") ran past its ${limit} time limit of ${limitMs} ms, so ${what}. ` +
      'Raise the limit, make the handler honour ctx.signal, or split the work into smaller jobs.',
    { details: { limit, limitMs } },
  );
}
