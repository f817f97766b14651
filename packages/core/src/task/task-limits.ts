import { z } from 'zod';
import { durationMs, type Duration } from '../time/duration.js';

/** Extracts the fairness key of a job from its validated input, e.g. `(input) => input.tenantId`. */
export type LimitKey<Input> = (input: Input) => string;

/**
 * At most `limit` jobs of this task run at once, across all workers, per key (or in total without `key`). A job over
 * the limit waits in the delayed set without spending an attempt, so jobs of other keys run meanwhile.
 */
export interface ConcurrencyLimitOptions<Input> {
  readonly limit: number;
  readonly key?: LimitKey<Input>;
}

/** A rate: `'100/s'`, `'30/m'`, `'1000/h'`, or `{ limit, per, key? }` for any window or a per-key limit. */
export type RateLimitOptions<Input> =
  | `${number}/${'s' | 'm' | 'h'}`
  | { readonly limit: number; readonly per: Duration; readonly key?: LimitKey<Input> };

/** A resolved concurrency limit. */
export interface ConcurrencyLimit {
  readonly limit: number;
  readonly key?: LimitKey<unknown>;
}

/** A resolved rate limit: `limit` starts per `perMs`, spaced evenly (one every `perMs / limit`, as Celery does). */
export interface RateLimit {
  readonly limit: number;
  readonly perMs: number;
  readonly key?: LimitKey<unknown>;
}

const keyFunction = z.custom<LimitKey<unknown>>((v) => typeof v === 'function', 'expected a function (input) => string');
const unitMs = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** Schema of a task's `concurrency` option. */
export const concurrencyLimitSchema = z
  .object({ limit: z.number().int().min(1).max(100_000), key: keyFunction.optional() })
  .strict()
  .transform((value): ConcurrencyLimit => (value.key === undefined ? { limit: value.limit } : { limit: value.limit, key: value.key }));

/** Schema of a task's `rateLimit` option. */
export const rateLimitSchema = z.union([
  z
    .string()
    .regex(/^\d+\/[smh]$/, 'expected a rate such as "100/s", "30/m" or "1000/h"')
    .transform((text): RateLimit => {
      const [count, unit] = text.split('/') as [string, keyof typeof unitMs];
      return { limit: Number(count), perMs: unitMs[unit] };
    })
    .pipe(z.object({ limit: z.number().int().min(1), perMs: z.number() })),
  z
    .object({ limit: z.number().int().min(1), per: durationMs.pipe(z.number().min(1)), key: keyFunction.optional() })
    .strict()
    .transform((value): RateLimit => ({ limit: value.limit, perMs: value.per, ...(value.key ? { key: value.key } : {}) })),
]);
