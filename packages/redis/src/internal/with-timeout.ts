import { CeleriacError, ErrorCode, isCeleriacError } from '@celeriac/core';

/**
 * Runs a Redis operation with a deadline, turning a timeout or a connection error into
 * `CELERIAC_BROKER_UNAVAILABLE`. Errors celeriac raised itself pass through unchanged.
 *
 * A timed-out write may still have been applied by Redis; callers that must not duplicate work pass a `jobId`,
 * which makes a retried enqueue return the same job.
 */
export async function withTimeout<T>(operation: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(unavailable(operation, new Error(`no answer within ${timeoutMs} ms`))),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([run(), deadline]);
  } catch (error) {
    if (isCeleriacError(error)) throw error;
    throw unavailable(operation, error);
  } finally {
    clearTimeout(timer);
  }
}

function unavailable(operation: string, cause: unknown): CeleriacError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new CeleriacError(
    ErrorCode.BrokerUnavailable,
    `Redis did not complete "${operation}" (${reason}). Check that Redis is running and reachable, then try again.`,
    { cause, details: { operation } },
  );
}
