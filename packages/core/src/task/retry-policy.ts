import { z } from 'zod';
import { durationMs, type Duration } from '../time/duration.js';

/** How the wait between attempts grows. */
export const Backoff = { Fixed: 'fixed', Exponential: 'exponential' } as const;
/** One of {@link Backoff}. */
export type Backoff = (typeof Backoff)[keyof typeof Backoff];

/** A task's retry policy, as written in `defineTask({ retry })` or per call. */
export interface RetryPolicyOptions {
  /** Total attempts, the first one included: 1 means never retry. Default 1. */
  readonly attempts?: number;
  /** `'fixed'` waits `delay` every time; `'exponential'` waits `delay`, 2×, 4×, … Default `'exponential'`. */
  readonly backoff?: Backoff;
  /** The first wait. Default `'1s'`. */
  readonly delay?: Duration;
  /** No wait is longer than this. Default `'10m'`. */
  readonly maxDelay?: Duration;
  /**
   * Randomises each wait downwards by up to this fraction (0.2 → between 80% and 100% of it), so jobs that failed
   * together do not all come back at the same instant. Default 0.2; 0 makes waits exact.
   */
  readonly jitter?: number;
  /**
   * When set, errors that are not celeriac errors are retried only if their `name` or `code` is listed
   * (`['TypeError', 'ECONNRESET']`); others fail at once. Unset, every such error is retried. A `TaskFailure`
   * always decides for itself.
   */
  readonly retryOn?: readonly string[];
}

/** A retry policy with defaults applied and durations in milliseconds. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly backoff: Backoff;
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly retryOn?: readonly string[];
}

/** Schema of {@link RetryPolicyOptions}; outputs a {@link RetryPolicy}. */
export const retryPolicySchema = z
  .object({
    attempts: z.number().int().min(1).max(1_000).default(1),
    backoff: z.enum(Backoff).default(Backoff.Exponential),
    delay: durationMs.default(1_000),
    maxDelay: durationMs.default(600_000),
    jitter: z.number().min(0).max(1).default(0.2),
    retryOn: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .transform(({ delay, maxDelay, retryOn, ...rest }): RetryPolicy => ({
    ...rest,
    delayMs: delay,
    maxDelayMs: maxDelay,
    ...(retryOn === undefined ? {} : { retryOn }),
  }));

/**
 * How long to wait before the attempt after `attemptsMade` failed ones. A failure may ask for its own wait
 * (`TaskFailure.retryable(msg, { delay })`), which wins over the policy but still respects `maxDelayMs`.
 *
 * @param random - a number in [0, 1); injectable so tests can pin the jitter
 */
export function computeBackoffMs(
  policy: Pick<RetryPolicy, 'backoff' | 'delayMs' | 'maxDelayMs' | 'jitter'>,
  attemptsMade: number,
  requestedDelayMs?: number,
  random: () => number = Math.random,
): number {
  const base =
    requestedDelayMs ??
    (policy.backoff === Backoff.Fixed ? policy.delayMs : policy.delayMs * 2 ** Math.max(0, attemptsMade - 1));
  const capped = Math.min(base, policy.maxDelayMs);
  return Math.round(capped * (1 - policy.jitter * random()));
}

/**
 * Whether an error that is not a celeriac error may be retried under `policy`: always, unless `retryOn` lists what
 * may be, in which case its `name` or `code` must be listed.
 */
export function isRetriedByPolicy(policy: Pick<RetryPolicy, 'retryOn'>, error: unknown): boolean {
  if (policy.retryOn === undefined) return true;
  const { name, code } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; code?: unknown };
  return policy.retryOn.some((listed) => listed === name || listed === code);
}
