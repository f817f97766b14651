import { CeleriacError, ErrorCode, type GpuRunner, type TaskContext, type TaskDefinition } from '@celeriac/core';
import { executeTask } from './execute-task.js';

/** Time limits of one attempt, in milliseconds. */
export interface AttemptLimits {
  readonly softMs?: number | undefined;
  readonly hardMs?: number | undefined;
}

/**
 * Runs a task on the worker's own event loop (`isolation: 'inline'`). The soft limit aborts `ctx.signal`. The hard
 * limit fails the attempt on time, but cannot stop a handler that ignores its signal: JavaScript on the same thread
 * cannot be killed, which is why handlers run in a sandbox unless a task opts out.
 */
export async function runInline(
  task: TaskDefinition,
  input: unknown,
  ctx: TaskContext,
  limits: AttemptLimits,
  abort: { onAbort(listener: (reason: Error) => void): void; readonly graceMs: number },
): Promise<unknown> {
  const timers: NodeJS.Timeout[] = [];
  // Cancellation or shutdown aborts the job; a handler that ignores it is let go after the grace period, so the job
  // can end (its late result is discarded). onAbort, not ctx.signal: the signal would cost an AbortController per job.
  const abandoned = new Promise<never>((_, reject) => {
    abort.onAbort((reason) => timers.push(setTimeout(() => reject(reason), abort.graceMs)));
  });
  abandoned.catch(() => {}); // settled by the race below; never an unhandled rejection
  try {
    return await Promise.race([runWithLimits(task, input, ctx, limits, timers), abandoned]);
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

async function runWithLimits(
  task: TaskDefinition,
  input: unknown,
  ctx: TaskContext,
  limits: AttemptLimits,
  timers: NodeJS.Timeout[],
): Promise<unknown> {
  if (limits.softMs === undefined && limits.hardMs === undefined) return executeTask(task, input, ctx);
  const soft = new AbortController();
  if (limits.softMs !== undefined) {
    const softMs = limits.softMs;
    timers.push(setTimeout(() => soft.abort(timeLimitExceeded(task, 'soft', softMs)), softMs));
  }
  const hard = new AbortController();
  const limited: TaskContext = Object.create(ctx, {
    signal: { value: AbortSignal.any([ctx.signal, soft.signal]) },
    // The handler is only let go at the hard limit, but a kernel it started would go on holding the GPU: its call
    // is stopped with the attempt (the executor process is replaced).
    gpu: { get: () => stoppedBy(ctx.gpu, hard.signal) },
  }) as TaskContext;
  const run = executeTask(task, input, limited);
  if (limits.hardMs === undefined) return run;
  const hardMs = limits.hardMs;
  const stopped = new Promise<never>((_, reject) => {
    timers.push(
      setTimeout(() => {
        const error = timeLimitExceeded(task, 'hard', hardMs);
        hard.abort(error);
        reject(error);
      }, hardMs),
    );
  });
  return Promise.race([run, stopped]);
}

/** A GPU runner whose calls also stop when `stop` aborts. */
function stoppedBy(runner: GpuRunner, stop: AbortSignal): GpuRunner {
  return {
    run: (kernel, args, options) =>
      runner.run(kernel, args, { ...options, signal: options?.signal ? AbortSignal.any([options.signal, stop]) : stop }),
  };
}

/** The error of an attempt that ran past a time limit. */
export function timeLimitExceeded(task: TaskDefinition, limit: 'soft' | 'hard', limitMs: number): CeleriacError {
  return new CeleriacError(
    ErrorCode.TimeLimitExceeded,
    `Task "${task.name}" ran past its ${limit} time limit of ${limitMs} ms. ` +
      (limit === 'soft' ? 'Its ctx.signal was aborted so it can stop.' : 'The attempt was stopped.'),
    { details: { limit, limitMs } },
  );
}
