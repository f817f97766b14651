/**
 * One job for the sandbox pool: who it is, its raw input, its limits, and where its log and progress go. The
 * worker builds one per job it fetched; the pool hands it to a thread.
 */
export interface SandboxRun {
  readonly jobId: string;
  readonly taskName: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The raw input from the job envelope; the thread validates it against the task's schema. */
  readonly input: unknown;
  /**
   * Milliseconds after the handler starts at which `ctx.signal` aborts with `CELERIAC_TIME_LIMIT_EXCEEDED`
   * (`details: { limit: 'soft', limitMs }`), so a cooperative handler can clean up and stop.
   */
  readonly softLimitMs?: number;
  /**
   * Milliseconds after the handler starts at which its thread is terminated and replaced, whatever the handler is
   * doing (a synchronous loop included); the run rejects with `CELERIAC_TIME_LIMIT_EXCEEDED` (`limit: 'hard'`).
   */
  readonly hardLimitMs?: number;
  /**
   * Subscribes to the job's external abort (cancellation, shutdown), calling the listener at once if it happened
   * already: `ctx.signal` aborts inside the thread with the same reason. A hook rather than an `AbortSignal`, which
   * would cost one per job.
   */
  onAbort?(listener: (reason: unknown) => void): void;
  /**
   * How long after the external abort the handler may take to settle before its thread is terminated; the run then
   * rejects with the abort reason. Without it, the run waits for the handler however long it takes.
   */
  readonly abortGraceMs?: number;
  /** Appends a line to the job's log (the handler's `ctx.log`). */
  log(line: string): Promise<void>;
  /** Records the job's progress (the handler's `ctx.progress`). */
  progress(value: number | Readonly<Record<string, unknown>>): Promise<void>;
}
