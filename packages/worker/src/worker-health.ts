/** Where a worker is in its life, as {@link WorkerHealth} reports it. */
export const WorkerLifecycle = {
  /** Created; `start()` has not finished starting the consumer. */
  Starting: 'starting',
  /** Consuming. */
  Running: 'running',
  /** Graceful shutdown: no new jobs, those in flight finish within `shutdownTimeout`. */
  Closing: 'closing',
  /** Shut down. */
  Closed: 'closed',
} as const;
/** One of {@link WorkerLifecycle}. */
export type WorkerLifecycle = (typeof WorkerLifecycle)[keyof typeof WorkerLifecycle];

/**
 * A worker's answer to a liveness or readiness probe, from `worker.health()`. Kubernetes restarts a container whose
 * liveness fails and stops counting a pod whose readiness fails; `serveWorkerHealth` serves both over HTTP.
 */
export interface WorkerHealth {
  readonly state: WorkerLifecycle;
  /**
   * Whether the worker's consumer loop is alive: while running, it polled Redis within the liveness window, or no
   * poll is due (paused, or every slot busy with a job). True while starting and during a graceful shutdown, so a
   * probe never kills a worker that is draining its jobs; false once closed.
   */
  readonly live: boolean;
  /** Whether the worker has started and is not shutting down. */
  readonly ready: boolean;
  /**
   * Milliseconds since the consumer's last successful poll (since the worker was created, before the first poll);
   * `undefined` before the consumer started.
   */
  readonly lastPollAgeMs: number | undefined;
  /** Whether a poll is due: false while paused, or while every slot is busy (no poll then, and none needed). */
  readonly pollDue: boolean;
  /** The longest `lastPollAgeMs` that still counts as live (the worker's `livenessWindow`). */
  readonly livenessWindowMs: number;
  /** Jobs running now. */
  readonly activeJobs: number;
  /** Whether remote control paused fetching (a paused worker is alive: pausing is not death). */
  readonly paused: boolean;
}

/** What {@link assessWorkerHealth} judges: a snapshot of a worker and its consumer. */
export interface WorkerHealthSnapshot {
  readonly state: WorkerLifecycle;
  /** The consumer's `lastPollAtMs`, or `undefined` (no consumer yet, or no poll yet). */
  readonly lastPollAtMs: number | undefined;
  /** The consumer's `pollDue`; false without a consumer. */
  readonly pollDue: boolean;
  /** When the worker was created: the age of a consumer that never polled counts from here. */
  readonly createdAtMs: number;
  readonly livenessWindowMs: number;
  readonly activeJobs: number;
  readonly paused: boolean;
  readonly nowMs: number;
}

/**
 * Judges a worker's health from a snapshot. Separate from the worker so the rules can be read, and tested, in one
 * place.
 */
export function assessWorkerHealth(snapshot: WorkerHealthSnapshot): WorkerHealth {
  const { state, lastPollAtMs, pollDue, createdAtMs, livenessWindowMs, nowMs } = snapshot;
  const lastPollAgeMs = state === WorkerLifecycle.Starting ? undefined : nowMs - (lastPollAtMs ?? createdAtMs);
  const live =
    state === WorkerLifecycle.Running
      ? !pollDue || (lastPollAgeMs !== undefined && lastPollAgeMs <= livenessWindowMs)
      : state !== WorkerLifecycle.Closed;
  return {
    state,
    live,
    ready: state === WorkerLifecycle.Running,
    lastPollAgeMs,
    pollDue: state === WorkerLifecycle.Running && pollDue,
    livenessWindowMs,
    activeJobs: snapshot.activeJobs,
    paused: snapshot.paused,
  };
}
