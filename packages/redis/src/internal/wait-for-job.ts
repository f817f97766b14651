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
    // At the deadline, one last read: a job that finished in time is answered even if its event went astray, and
    // the error names the state the job is in now, not the one it was in when the wait began.
    const timer = setTimeout(() => {
      stop();
      broker
        .getOutcome(id)
        .then((now) => {
          if (now === undefined || isTerminalState(now.outcome.state)) resolve(now?.outcome);
          else reject(timedOut(id, timeoutMs, now));
        })
        .catch(() => reject(timedOut(id, timeoutMs, first)));
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

function timedOut(id: string, timeoutMs: number, { outcome, queue }: { outcome: JobOutcome; queue: string }): CeleriacError {
  return new CeleriacError(
    ErrorCode.ResultTimeout,
    `Job "${id}" did not finish within ${timeoutMs} ms; it is ${outcome.state}. ` +
      `Wait longer, or check that a worker consumes queue "${queue}".`,
    { details: { id, timeoutMs, state: outcome.state } },
  );
}
