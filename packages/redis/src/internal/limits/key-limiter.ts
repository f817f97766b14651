import type { Redis } from 'ioredis';
import type { LimitDecision, LimitRequest } from '@celeriac/broker';
import { acquireLimitsLua } from './acquire-limits-lua.js';
import { limitKeys, type LimitKeys } from './limit-keys.js';
import { renewLeaseLua } from './renew-lease-lua.js';

/**
 * The shortest retry delay after a concurrency denial. A lease about to run out would otherwise give a delay of a
 * few ms, and the job would bounce between the delayed set and the worker in a busy loop.
 */
export const concurrencyRetryMinMs = 50;

/**
 * The longest retry delay after a concurrency denial. The earliest lease expiry is only when a slot frees at the
 * latest (a lease is typically tens of seconds and renewed); most slots free sooner through a release, which a
 * denied job then notices within this delay.
 */
export const concurrencyRetryMaxMs = 1_000;

/** The scripts, under names unlikely to meet anyone else's custom command on a shared connection. */
const acquireCommand = 'celeriacLimitAcquire';
const renewCommand = 'celeriacLimitRenew';

/** A connection on which {@link KeyLimiter} has defined its scripts. */
type LimiterConnection = Redis & {
  [acquireCommand](keyCount: number, ...keysThenArgs: (string | number)[]): Promise<[number, number?, string?]>;
  [renewCommand](key: string, jobId: string, leaseMs: number): Promise<number>;
};

const acquired: LimitDecision = Object.freeze({ acquired: true });

/**
 * Per-key concurrency and rate limits shared by every worker on one Redis, which BullMQ's open-source edition lacks
 * (it has only a per-queue rate limit). A worker calls {@link acquire} when it picks up a job, {@link renew} while
 * the job runs, and {@link release} when it ends, so one tenant with a thousand queued jobs cannot starve the others.
 *
 * Every decision is one Lua script on Redis server time, so concurrent workers never both take the last slot, and
 * workers with skewed clocks agree. Its keys expire on their own once idle.
 *
 * @example
 * ```ts
 * const limiter = new KeyLimiter(connection, '{celeriac}');
 * const decision = await limiter.acquire({ jobId, concurrency: { key: `resize:${tenantId}`, limit: 2, leaseMs: 30_000 } });
 * if (!decision.acquired) return moveToDelayed(decision.retryAfterMs);
 * try { await run(); } finally { await limiter.release(jobId, `resize:${tenantId}`); }
 * ```
 */
export class KeyLimiter {
  private readonly connection: LimiterConnection;
  private readonly keys: LimitKeys;

  /**
   * Defines the limiter's scripts on `connection` (ioredis then runs them by SHA, loading them again after a Redis
   * restart). `keyPrefix` is the hash-tagged prefix, such as `{celeriac}`; the keys go under `<keyPrefix>:_meta:limit:`.
   */
  constructor(connection: Redis, keyPrefix: string) {
    // No fixed key count: the acquire script takes one or two keys, and the count is passed first.
    connection.defineCommand(acquireCommand, { lua: acquireLimitsLua });
    connection.defineCommand(renewCommand, { lua: renewLeaseLua, numberOfKeys: 1 });
    // defineCommand adds the methods at run time, where TypeScript cannot see them.
    this.connection = connection as LimiterConnection;
    this.keys = limitKeys(keyPrefix);
  }

  /**
   * Takes a concurrency slot and a rate token for the job, both or neither, in one atomic step. If the job already
   * holds its slot (a retried pickup), it succeeds again, extends the lease to `leaseMs` from now, and takes no rate
   * token. A rate-only request keeps no record of the job, so each call takes a token: a call repeated after a lost
   * reply costs one token too many, which errs towards fewer starts, never more.
   *
   * On a concurrency denial, `retryAfterMs` is the time until the earliest lease expires, kept within
   * [{@link concurrencyRetryMinMs}, {@link concurrencyRetryMaxMs}]; on a rate denial, it is the exact time until a
   * token is free. When both refuse, the longer wait and its reason are reported.
   */
  async acquire(request: LimitRequest): Promise<LimitDecision> {
    const { jobId, concurrency, rate } = request;
    if (concurrency === undefined && rate === undefined) return acquired;
    const keys = [
      ...(concurrency ? [this.keys.concurrency(concurrency.key)] : []),
      ...(rate ? [this.keys.rate(rate.key)] : []),
    ];
    const [granted, retryAfterMs, reason] = await this.connection[acquireCommand](
      keys.length,
      ...keys,
      jobId,
      concurrency?.limit ?? '',
      concurrency?.leaseMs ?? '',
      rate?.limit ?? '',
      rate?.perMs ?? '',
      concurrencyRetryMinMs,
      concurrencyRetryMaxMs,
    );
    if (granted === 1) return acquired;
    return { acquired: false, retryAfterMs: Number(retryAfterMs), reason: reason === 'rate' ? 'rate' : 'concurrency' };
  }

  /**
   * Extends the job's concurrency lease to `leaseMs` from now. Returns false if the job no longer holds a slot (its
   * lease ran out, or it was released); its worker should then treat the slot as gone, since another job may have it.
   */
  async renew(jobId: string, concurrency: { readonly key: string; readonly leaseMs: number }): Promise<boolean> {
    return (await this.connection[renewCommand](this.keys.concurrency(concurrency.key), jobId, concurrency.leaseMs)) === 1;
  }

  /** Gives the job's concurrency slot back, so the key's next job can start. Releasing a slot not held does nothing. */
  async release(jobId: string, concurrencyKey: string): Promise<void> {
    await this.connection.zrem(this.keys.concurrency(concurrencyKey), jobId);
  }
}
