/**
 * The states of a job. Every job is in exactly one; `succeeded`, `failed`, `cancelled` and `expired` are terminal.
 *
 * - `queued`: waiting for a worker.
 * - `scheduled`: waiting for its delay or ETA to pass.
 * - `active`: a worker holds it and runs the handler.
 * - `retrying`: an attempt failed, and the next attempt waits for its backoff.
 * - `succeeded`: the handler returned a valid output.
 * - `failed`: it failed for good (non-retryable, or out of attempts).
 * - `cancelled`: it was cancelled before it finished.
 * - `expired`: it was still waiting when its expiry passed, so it never ran.
 */
export const JobState = {
  Queued: 'queued',
  Scheduled: 'scheduled',
  Active: 'active',
  Retrying: 'retrying',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Cancelled: 'cancelled',
  Expired: 'expired',
} as const;

/** One of the values of {@link JobState}. */
export type JobState = (typeof JobState)[keyof typeof JobState];

/** Every job state, in lifecycle order. */
export const jobStates = Object.values(JobState);

const terminalStates: ReadonlySet<JobState> = new Set([
  JobState.Succeeded,
  JobState.Failed,
  JobState.Cancelled,
  JobState.Expired,
]);

/** Whether a job in `state` will never change again. */
export function isTerminalState(state: JobState): boolean {
  return terminalStates.has(state);
}
