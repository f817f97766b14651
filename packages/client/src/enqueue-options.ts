import { z } from 'zod';
import { durationMs, nameSchema, resolveOptions, type Duration } from '@celeriac/core';

/** Per-call options of `enqueue`. */
export interface EnqueueOptions {
  /** Wait this long before the job may run (`'30s'`, or milliseconds). */
  readonly delay?: Duration;
  /** 1 (highest) to 2,097,152; jobs without a priority run before prioritised ones, as in BullMQ. */
  readonly priority?: number;
  /**
   * Your own id. Enqueueing the same id again returns the existing job instead of creating another, which makes
   * retried submissions safe.
   */
  readonly jobId?: string;
  /** Send the job to this queue instead of the task's default. */
  readonly queue?: string;
}

const enqueueOptionsSchema = z
  .object({
    delay: durationMs.optional(),
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
  })
  .strict();

/** {@link EnqueueOptions} after validation, durations in milliseconds. */
export type ResolvedEnqueueOptions = Readonly<z.output<typeof enqueueOptionsSchema>>;

/**
 * Validates per-call enqueue options.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` (`enqueue.priority: ...`)
 */
export function resolveEnqueueOptions(options: EnqueueOptions = {}): ResolvedEnqueueOptions {
  return resolveOptions(enqueueOptionsSchema, options, 'enqueue');
}
