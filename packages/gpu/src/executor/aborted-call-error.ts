import { CeleriacError, ErrorCode, isCeleriacError } from '@celeriac/core';

/**
 * The error a GPU call rejects with when its signal aborts. A celeriac error as the reason is the caller's own
 * verdict (a worker aborts with `CELERIAC_TIME_LIMIT_EXCEEDED` at a hard time limit) and is passed on unchanged;
 * any other reason (`controller.abort()`'s `AbortError`, a string) becomes `CELERIAC_JOB_CANCELLED`, not retried,
 * since the caller chose to stop.
 *
 * @param what - the call, for the message: `kernel "name"` or `upload`
 * @param pid - the executor process killed to stop it, or `undefined` when the call was aborted before it was sent
 */
export function abortedCallError(what: string, reason: unknown, pid: number | undefined): CeleriacError {
  if (isCeleriacError(reason)) return reason;
  const why = reason instanceof Error ? reason.message : String(reason);
  const stopped =
    pid === undefined
      ? 'before it was sent to the GPU executor'
      : `while in flight, so its GPU executor process (pid ${pid}) was killed to stop it, since WebGPU cannot cancel a dispatch`;
  return new CeleriacError(
    ErrorCode.JobCancelled,
    `The GPU call for ${what} was aborted (${why}) ${stopped}. The next call starts a fresh executor; call again if ` +
      'the work is still needed.',
    { details: { call: what, pid }, cause: reason },
  );
}

/**
 * The error for a call that ran past the executor's `callTimeout`: the same code a worker's hard time limit uses,
 * so a worker treats both alike (retried per the task's policy).
 */
export function callTimeoutError(what: string, limitMs: number): CeleriacError {
  return new CeleriacError(
    ErrorCode.TimeLimitExceeded,
    `The GPU call for ${what} ran past the executor's callTimeout of ${limitMs} ms, so its executor process was ` +
      'killed to stop it (WebGPU cannot cancel a dispatch). The next call starts a fresh executor. Raise callTimeout, ' +
      'or split the work into smaller calls.',
    { details: { limit: 'callTimeout', limitMs, call: what } },
  );
}
