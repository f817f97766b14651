import { z } from 'zod';
import {
  durationMs,
  nameSchema,
  resolveOptions,
  type Duration,
  type RetryPolicyOptions,
  type TimeLimitOptions,
} from '@celeriac/core';

/** Per-call options of `enqueue`. Each one overrides the task's default for this job only. */
export interface EnqueueOptions {
  /** Wait this long before the job may run (`'30s'`, or milliseconds). */
  readonly delay?: Duration;
  /** Run at (or after) this time. Use either `delay` or `eta`. */
  readonly eta?: Date;
  /** 1 (highest) to 2,097,152; jobs without a priority run before prioritised ones, as in BullMQ. */
  readonly priority?: number;
  /**
   * Your own id. Enqueueing the same id again returns the existing job instead of creating another, which makes
   * retried submissions safe.
   */
  readonly jobId?: string;
  /** Send the job to this queue instead of the task's default. */
  readonly queue?: string;
  /** Overrides parts of the task's retry policy (the rest is kept). */
  readonly retry?: RetryPolicyOptions;
  /** If the job has not started by then (a duration from now, or a date), it ends `expired` and never runs. */
  readonly expires?: Duration | Date;
  /** Time limits of each attempt. */
  readonly limits?: TimeLimitOptions;
  /**
   * While a job with the same `key` is not finished and `ttl` has not passed, enqueueing returns that job instead
   * of a new one: "run this once" for events that arrive in bursts.
   */
  readonly dedupe?: { readonly key: string; readonly ttl: Duration };
}

const limitSchema = durationMs.pipe(z.number().min(1));

const enqueueOptionsSchema = z
  .object({
    delay: durationMs.optional(),
    eta: z.date().optional(),
    priority: z.number().int().min(1).max(2_097_152).optional(),
    jobId: z
      .string()
      .min(1)
      .max(256)
      // BullMQ keeps integer ids for its own counter, and ':' separates parts of its keys.
      .refine((id) => !/^\d+$/.test(id), 'must not be a plain integer; add a prefix such as "order-123"')
      .refine((id) => !id.includes(':'), 'must not contain ":"')
      .optional(),
    queue: nameSchema.optional(),
    // Checked when it is merged over the task's policy, where a bad field can be named (`enqueue.retry.attempts`).
    retry: z.record(z.string(), z.unknown()).optional(),
    expires: z.union([durationMs.pipe(z.number().min(1)), z.date()]).optional(),
    limits: z.object({ soft: limitSchema.optional(), hard: limitSchema.optional() }).strict().optional(),
    dedupe: z.object({ key: z.string().min(1).max(256), ttl: durationMs.pipe(z.number().min(1)) }).strict().optional(),
  })
  .strict()
  .refine((o) => o.delay === undefined || o.eta === undefined, { message: 'use either delay or eta, not both', path: ['eta'] });

/** {@link EnqueueOptions} after validation, durations in milliseconds. */
export type ResolvedEnqueueOptions = Readonly<z.output<typeof enqueueOptionsSchema>>;

/**
 * Validates per-call enqueue options.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` (`enqueue.priority: ...`)
 */
export function resolveEnqueueOptions(options: EnqueueOptions = {}): ResolvedEnqueueOptions {
  return resolveOptions(enqueueOptionsSchema, options, 'enqueue');
}
