import { CeleriacError, ControlCommand, ErrorCode, serializeError, toRateLimit, type RateLimit, type RateSpec } from '@celeriac/core';
import type { ControlHandler, ControlHandlerResult } from '@celeriac/broker';

/** What remote control can do to a worker. */
export interface ControllableWorker {
  /** Stops fetching jobs; running ones go on. */
  pauseConsuming(): Promise<void>;
  resumeConsuming(): Promise<void>;
  setConcurrency(concurrency: number): Promise<void>;
  /**
   * Changes a task's rate limit on this worker; `null` goes back to the task's declared limit.
   * @throws CeleriacError `CELERIAC_TASK_NOT_FOUND` when this worker does not run the task
   */
  setRateLimit(task: string, rate: RateLimit | null): void;
  /** Starts a graceful shutdown, without waiting for it (the reply goes out first). */
  beginShutdown(): void;
  /** What the worker is doing now: the result of every command. */
  describe(): Record<string, unknown>;
}

/**
 * The worker's handler of control commands: applies one, then answers with the worker's state. A command the worker
 * cannot apply (a rate limit for a task it does not run) answers `ok: false` with the error's code and message.
 */
export function createControlHandler(worker: ControllableWorker): ControlHandler {
  return async (request): Promise<ControlHandlerResult> => {
    try {
      switch (request.command) {
        case ControlCommand.Ping:
          break;
        case ControlCommand.Shutdown:
          worker.beginShutdown();
          break;
        case ControlCommand.Pause:
          await worker.pauseConsuming();
          break;
        case ControlCommand.Resume:
          await worker.resumeConsuming();
          break;
        case ControlCommand.SetConcurrency:
          await worker.setConcurrency(request.args.concurrency);
          break;
        case ControlCommand.SetRateLimit:
          worker.setRateLimit(request.args.task, toRate(request.args.rateLimit));
          break;
      }
      return { ok: true, result: worker.describe() };
    } catch (error) {
      const { code, message } = serializeError(error);
      return { ok: false, error: { code, message } };
    }
  };
}

function toRate(spec: RateSpec | null): RateLimit | null {
  return spec === null ? null : toRateLimit(spec);
}

/** The error for a rate-limit change naming a task this worker does not run. */
export function unknownTask(task: string, known: readonly string[]): CeleriacError {
  return new CeleriacError(
    ErrorCode.TaskNotFound,
    `This worker does not run task "${task}" (it runs ${known.join(', ')}), so its rate limit was not changed here. ` +
      'Address the workers that run it, or check the name.',
    { details: { task } },
  );
}
