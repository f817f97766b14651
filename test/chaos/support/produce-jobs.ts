import { isCeleriacError } from '@celeriac/core';
import type { Client } from '@celeriac/client';
import type { JobLedger } from './job-ledger.js';

/** What a {@link produceJobs} run enqueues, and how fast. */
export interface ProduceOptions {
  readonly task: string;
  /** The input of the `n`th job (from 0). */
  readonly input: (n: number) => unknown;
  /** Enqueues started per second. */
  readonly ratePerSecond: number;
  /** Stop after this many acknowledged jobs. Default: until `stop()`. */
  readonly total?: number;
  /** Enqueues in flight at once, at most. Default 32. */
  readonly maxInFlight?: number;
}

/** What a producer did. */
export interface ProduceStats {
  readonly attempted: number;
  readonly acknowledged: number;
  /** Failed enqueues by error code (`other: <message>` for an error that is not celeriac's). */
  readonly failures: ReadonlyMap<string, number>;
  /** When the first enqueue after a failure was acknowledged (the client recovered), if any was. */
  readonly firstAckAfterFailureMs: number | undefined;
}

/** A running producer. */
export interface Producer {
  /** Resolves when `total` jobs are acknowledged, or after `stop()` once the enqueues in flight have settled. */
  readonly done: Promise<ProduceStats>;
  /** Acknowledged so far. */
  readonly acknowledged: number;
  stop(): void;
}

/**
 * Enqueues jobs at a steady rate, as an application under load does, and records each acknowledged enqueue (its
 * promise resolved with an id) in the ledger. A failed enqueue is not acknowledged: it is counted by error code
 * and not retried, since retrying is the application's decision (and would need a `jobId` to stay exactly-once).
 */
export function produceJobs(client: Client, ledger: JobLedger, options: ProduceOptions): Producer {
  const maxInFlight = options.maxInFlight ?? 32;
  const total = options.total ?? Number.POSITIVE_INFINITY;
  const failures = new Map<string, number>();
  const startedAtMs = Date.now();
  let attempted = 0;
  let acknowledged = 0;
  let inFlight = 0;
  let stopped = false;
  let failedOnce = false;
  let firstAckAfterFailureMs: number | undefined;

  const enqueueOne = async (n: number): Promise<void> => {
    inFlight += 1;
    try {
      const handle = await client.enqueueByName(options.task, options.input(n));
      ledger.acknowledge(handle.id);
      acknowledged += 1;
      if (failedOnce && firstAckAfterFailureMs === undefined) firstAckAfterFailureMs = Date.now();
    } catch (error) {
      failedOnce = true;
      const key = isCeleriacError(error) ? error.code : `other: ${(error as Error).message}`;
      failures.set(key, (failures.get(key) ?? 0) + 1);
    } finally {
      inFlight -= 1;
    }
  };

  const done = new Promise<ProduceStats>((resolve) => {
    const timer = setInterval(() => {
      if (stopped || acknowledged >= total) {
        if (inFlight > 0) return;
        clearInterval(timer);
        resolve({ attempted, acknowledged, failures, firstAckAfterFailureMs });
        return;
      }
      // Catch up to the rate, never more than `total` (counting those still in flight) or `maxInFlight` at once.
      const due = Math.floor(((Date.now() - startedAtMs) / 1000) * options.ratePerSecond) - attempted;
      const room = Math.min(due, maxInFlight - inFlight, total - acknowledged - inFlight);
      for (let i = 0; i < room; i++) void enqueueOne(attempted++);
    }, 20);
  });
  return {
    done,
    get acknowledged() {
      return acknowledged;
    },
    stop: () => void (stopped = true),
  };
}
