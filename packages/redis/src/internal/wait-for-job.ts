import { CeleriacError, ErrorCode, isCeleriacError, isTerminalState } from '@celeriac/core';
import type { JobEvent, JobOutcome } from '@celeriac/broker';

/** What waiting needs from the broker: a read of the job's outcome, and a watch on its events. */
export interface JobWatching {
  /** How the job stands now, and its queue; `undefined` when there is no such job. */
  getOutcome(id: string): Promise<{ outcome: JobOutcome; queue: string } | undefined>;
  watchJob(id: string, listener: (event: JobEvent) => void): Promise<() => void>;
}

/**
 * See `Broker.waitForJob`. Reads the outcome, and when the job has not finished, watches its events until it does
 * or `timeoutMs` passes. It reads once more after the watch starts, so a job that finished between the first read
 * and the subscription is not waited for in vain.
 * @throws CeleriacError `CELERIAC_RESULT_TIMEOUT` past `timeoutMs`, naming the job's state and queue
 */
export async function waitForJob(id: string, timeoutMs: number, broker: JobWatching): Promise<JobOutcome | undefined> {
  const first = await broker.getOutcome(id);
  if (first === undefined || isTerminalState(first.outcome.state)) return first?.outcome;
  return new Promise<JobOutcome | undefined>((resolve, reject) => {
    let stop = (): void => {};
    const finish = (outcome: JobOutcome | undefined): void => {
      clearTimeout(timer);
      stop();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      stop();
      reject(
        new CeleriacError(
          ErrorCode.ResultTimeout,
          `Job "${id}" did not finish within ${timeoutMs} ms; it is still ${first.outcome.state}. ` +
            `Wait longer, or check that a worker consumes queue "${first.queue}".`,
          { details: { id, timeoutMs, state: first.outcome.state } },
        ),
      );
    }, timeoutMs);
    const watching = broker
      .watchJob(id, (event) => {
        if (event.type === 'finished') finish(event.outcome);
      })
      .then((unwatch) => {
        stop = unwatch;
      })
      // The job left its queue between the first read and the subscription (cancelled, or removed by retention).
      .catch((error: unknown) => {
        if (!isCeleriacError(error, ErrorCode.JobNotFound)) throw error;
      });
    // Either way, it may have finished meanwhile: look once more.
    watching
      .then(() => broker.getOutcome(id))
      .then((now) => {
        if (now === undefined || isTerminalState(now.outcome.state)) finish(now?.outcome);
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        stop();
        reject(error);
      });
  });
}
