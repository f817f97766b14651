import type { LimitKey, RateLimit, TaskDefinition } from '@celeriac/core';
import type { Broker, LimitRequest, ReceivedJob } from '@celeriac/broker';

/** The part of the broker that keeps the shared limits. */
export type LimitKeeper = Pick<Broker, 'acquireLimits' | 'renewLimit' | 'releaseLimit'>;

/**
 * A concurrency slot is a lease: long enough to ride out a slow renewal, short enough that the slot of a worker that
 * died frees itself within a minute.
 */
const leaseMs = 60_000;
const renewEveryMs = leaseMs / 3;

/**
 * Runs `run` only within the task's concurrency and rate limits. Over a limit, the job goes back to the delayed set
 * (no attempt spent) for about the time the limit said, so the worker moves on to other jobs: one tenant's backlog
 * cannot hold up another tenant's job. The wait is spread by up to +50% so deferred jobs do not all return at once.
 */
export async function runWithinLimits(
  job: ReceivedJob,
  task: TaskDefinition,
  rawInput: unknown,
  keeper: LimitKeeper,
  run: () => Promise<unknown>,
  rateLimit: RateLimit | undefined = task.rateLimit,
): Promise<unknown> {
  const request = limitRequest(job.id, task, rawInput, rateLimit);
  if (!request) return run();
  const decision = await keeper.acquireLimits(request);
  if (!decision.acquired) {
    await job.defer(Math.round(decision.retryAfterMs * (1 + Math.random() / 2)));
    return undefined;
  }
  const { concurrency } = request;
  if (!concurrency) return run();
  const renewal = setInterval(() => void keeper.renewLimit(job.id, concurrency).catch(() => {}), renewEveryMs);
  renewal.unref();
  try {
    return await run();
  } finally {
    clearInterval(renewal);
    // If this fails (Redis away), the lease lapses on its own within leaseMs.
    await keeper.releaseLimit(job.id, concurrency.key).catch(() => {});
  }
}

/** What the job asks of the limits, or `undefined` when its task has none (or its input is invalid, which fails anyway). */
function limitRequest(
  jobId: string,
  task: TaskDefinition,
  rawInput: unknown,
  rateLimit: RateLimit | undefined,
): LimitRequest | undefined {
  const { concurrency } = task;
  if (!concurrency && !rateLimit) return undefined;
  let input: unknown;
  if (concurrency?.key || rateLimit?.key) {
    const parsed = task.input.safeParse(rawInput);
    if (!parsed.success) return undefined;
    input = parsed.data;
  }
  // Keys are scoped by task, so two tasks keyed by the same tenant id keep separate limits.
  const keyOf = (key: LimitKey<unknown> | undefined) => (key ? `${task.name}:${key(input)}` : task.name);
  return {
    jobId,
    ...(concurrency ? { concurrency: { key: keyOf(concurrency.key), limit: concurrency.limit, leaseMs } } : {}),
    ...(rateLimit ? { rate: { key: keyOf(rateLimit.key), limit: rateLimit.limit, perMs: rateLimit.perMs } } : {}),
  };
}
