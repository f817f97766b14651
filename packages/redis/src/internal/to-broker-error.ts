import { CeleriacError, ErrorCode } from '@celeriac/core';

/**
 * Whether a Redis error is its out-of-memory refusal (`OOM command not allowed when used memory > 'maxmemory'`).
 * A MULTI carries it in `previousErrors` (its EXEC then fails with EXECABORT), and a script in its message.
 */
export function isOutOfMemoryReply(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (/\bOOM command not allowed\b/.test(error.message)) return true;
  const previous = (error as { previousErrors?: unknown[] }).previousErrors;
  return Array.isArray(previous) && previous.some(isOutOfMemoryReply);
}

/**
 * Turns a failed Redis operation into celeriac's error: `CELERIAC_BROKER_FULL` when Redis refused it for want of
 * memory (a state that lasts until someone acts, so the message says what to do), `CELERIAC_BROKER_UNAVAILABLE`
 * for everything else (timeouts, refused or dropped connections).
 */
export function toBrokerError(operation: string, cause: unknown): CeleriacError {
  if (isOutOfMemoryReply(cause)) {
    return new CeleriacError(
      ErrorCode.BrokerFull,
      `Redis is out of memory (it reached maxmemory and refuses writes), so "${operation}" was not done. ` +
        'Raise maxmemory, keep finished jobs for less time (retention), or drain queues nobody consumes; ' +
        'workers keep finishing queued jobs meanwhile, which frees memory. Then try again.',
      { cause, details: { operation } },
    );
  }
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new CeleriacError(
    ErrorCode.BrokerUnavailable,
    `Redis did not complete "${operation}" (${reason}). Check that Redis is running and reachable, then try again.`,
    { cause, details: { operation } },
  );
}
