import { CeleriacError } from './celeriac-error.js';
import { ErrorCode } from './error-catalogue.js';

/** Options for {@link TaskFailure.retryable} and {@link TaskFailure.nonRetryable}. */
export interface TaskFailureOptions {
  /** Structured facts to keep with the failure. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The error that led to this failure. */
  readonly cause?: unknown;
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
  static retryable(message: string, options: TaskFailureOptions = {}): TaskFailure {
    return new TaskFailure(message, true, options);
  }

  /** A failure that no retry can fix (bad data, a missing record). The job fails at once. */
  static nonRetryable(message: string, options: TaskFailureOptions = {}): TaskFailure {
    return new TaskFailure(message, false, options);
  }
}
