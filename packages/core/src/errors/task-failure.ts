import { durationMs, type Duration } from '../time/duration.js';
import { CeleriacError } from './celeriac-error.js';
import { ErrorCode } from './error-catalogue.js';

/** Options for {@link TaskFailure.retryable} and {@link TaskFailure.nonRetryable}. */
export interface TaskFailureOptions {
  /** Structured facts to keep with the failure. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The error that led to this failure. */
  readonly cause?: unknown;
}

/** Options of {@link TaskFailure.retryable}. */
export interface RetryableFailureOptions extends TaskFailureOptions {
  /**
   * Wait this long before the next attempt instead of the policy's backoff (say, what a 429's `Retry-After` asked
   * for). It is kept in `details.retryDelayMs`, so it survives the trip through Redis and out of a sandbox.
   */
  readonly delay?: Duration;
}

/**
 * What a task handler throws to fail on purpose. The retry decision lives on the failure itself (as in Temporal's
 * ApplicationFailure), so the handler that knows *why* it failed decides whether another attempt can help.
 *
 * @example
 * ```ts
 * if (!account) throw TaskFailure.nonRetryable(`Account ${input.id} does not exist`);
 * if (res.status === 503) throw TaskFailure.retryable('Upstream is unavailable');
 * ```
 */
export class TaskFailure extends CeleriacError {
  private constructor(message: string, retryable: boolean, options: TaskFailureOptions) {
    super(ErrorCode.TaskFailed, message, { ...options, retryable });
    this.name = 'TaskFailure';
  }

  /** A failure that another attempt may fix (an upstream outage, a lock held elsewhere). */
  static retryable(message: string, options: RetryableFailureOptions = {}): TaskFailure {
    const { delay, ...rest } = options;
    if (delay === undefined) return new TaskFailure(message, true, rest);
    const retryDelayMs = durationMs.parse(delay);
    return new TaskFailure(message, true, { ...rest, details: { ...rest.details, retryDelayMs } });
  }

  /** A failure that no retry can fix (bad data, a missing record). The job fails at once. */
  static nonRetryable(message: string, options: TaskFailureOptions = {}): TaskFailure {
    return new TaskFailure(message, false, options);
  }
}
