import { isCeleriacError, type CeleriacError } from '@celeriac/core';
import { toBrokerError } from './to-broker-error.js';

interface Pending {
  readonly operation: string;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly reject: (error: CeleriacError) => void;
}

/** How often deadlines are checked: a late answer is reported at most this much after its deadline. */
const sweepIntervalMs = 50;

/**
 * Puts deadlines on Redis operations and turns a timeout or a connection error into `CELERIAC_BROKER_UNAVAILABLE`
 * (and Redis's out-of-memory refusal into `CELERIAC_BROKER_FULL`).
 *
 * One sweep timer serves every operation in flight, instead of a `setTimeout` and a `Promise.race` per call: at tens
 * of thousands of enqueues a second, the per-call timer was a measurable share of the client's CPU time. A
 * timed-out write may still have been applied by Redis; callers that must not duplicate work pass a `jobId`, which
 * makes a retried enqueue return the same job.
 */
export class OperationDeadlines {
  private readonly pending = new Set<Pending>();
  private sweeper: NodeJS.Timeout | undefined;

  /** Runs `work`, failing with `CELERIAC_BROKER_UNAVAILABLE` if it takes longer than `timeoutMs` or fails to reach Redis. */
  run<T>(operation: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { operation, timeoutMs, deadlineMs: Date.now() + timeoutMs, reject };
      this.pending.add(entry);
      this.sweeper ??= setInterval(() => this.sweep(), sweepIntervalMs).unref();
      const settle = (): void => {
        this.pending.delete(entry);
        if (this.pending.size === 0) this.stopSweeping();
      };
      work().then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(isCeleriacError(error) ? error : toBrokerError(operation, error));
        },
      );
    });
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.pending) {
      if (entry.deadlineMs > now) continue;
      this.pending.delete(entry);
      entry.reject(toBrokerError(entry.operation, new Error(`no answer within ${entry.timeoutMs} ms`)));
    }
    if (this.pending.size === 0) this.stopSweeping();
  }

  private stopSweeping(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
