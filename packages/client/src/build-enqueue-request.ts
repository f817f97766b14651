import {
  JobSource,
  createJobEnvelope,
  resolveOptions,
  retryPolicySchema,
  type CatalogueEntry,
  type JobMeta,
} from '@celeriac/core';
import type { EnqueueRequest } from '@celeriac/broker';
import type { ResolvedEnqueueOptions } from './enqueue-options.js';

/** A task's defaults, as a definition has them and as the published catalogue has them. */
export type TaskDefaults = Pick<CatalogueEntry, 'queue' | 'retry' | 'limits' | 'expiresMs'>;

/** The defaults of a task that no worker has published yet: one attempt, no limits, queue `default`. */
export const unpublishedTaskDefaults: TaskDefaults = {
  queue: 'default',
  retry: { attempts: 1, backoff: 'exponential', delayMs: 1_000, maxDelayMs: 600_000, jitter: 0.2 },
  limits: {},
};

/**
 * Builds the broker request for one job: the call's options over the task's defaults. The job carries its own
 * policies (backoff, expiry, time limits) in its envelope, so the worker applies exactly what this call asked for.
 */
export function buildEnqueueRequest(
  task: string,
  defaults: TaskDefaults,
  input: unknown,
  options: ResolvedEnqueueOptions,
  source: JobSource,
): EnqueueRequest {
  const now = Date.now();
  const retry = options.retry === undefined ? defaults.retry : mergeRetry(defaults.retry, options.retry);
  const expiresAtMs =
    options.expires instanceof Date
      ? options.expires.getTime()
      : options.expires !== undefined
        ? now + options.expires
        : defaults.expiresMs !== undefined
          ? now + defaults.expiresMs
          : undefined;
  const limits = options.limits ? { softMs: options.limits.soft, hardMs: options.limits.hard } : defaults.limits;
  const meta: JobMeta = { source };
  if (retry.attempts > 1) {
    meta.retry = { backoff: retry.backoff, delayMs: retry.delayMs, maxDelayMs: retry.maxDelayMs, jitter: retry.jitter };
  }
  if (expiresAtMs !== undefined) meta.expiresAtMs = expiresAtMs;
  if (limits.softMs !== undefined || limits.hardMs !== undefined) {
    meta.limits = {
      ...(limits.softMs === undefined ? {} : { softMs: limits.softMs }),
      ...(limits.hardMs === undefined ? {} : { hardMs: limits.hardMs }),
    };
  }
  const delayMs = options.delay ?? (options.eta ? Math.max(0, options.eta.getTime() - now) : undefined);
  return {
    queue: options.queue ?? defaults.queue,
    task,
    envelope: createJobEnvelope(input, meta),
    ...(retry.attempts > 1 ? { attempts: retry.attempts } : {}),
    ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
    ...(delayMs ? { delayMs } : {}),
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    ...(options.dedupe === undefined ? {} : { dedupe: { id: options.dedupe.key, ttlMs: options.dedupe.ttl } }),
  };
}

function mergeRetry(defaults: TaskDefaults['retry'], override: Record<string, unknown>): TaskDefaults['retry'] {
  const { delayMs, maxDelayMs, ...rest } = defaults;
  return resolveOptions(retryPolicySchema, { ...rest, delay: delayMs, maxDelay: maxDelayMs, ...override }, 'enqueue.retry');
}
