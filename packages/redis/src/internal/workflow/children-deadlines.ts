import type { Redis } from 'ioredis';
import { Job, type Queue } from 'bullmq';
import { CeleriacError, ErrorCode, serializeError } from '@celeriac/core';
import type { ChildrenDeadline } from '@celeriac/broker';

/**
 * Moves a job that still waits for its children to its queue's wait list with a deferred failure, which the worker
 * that picks it up records as the job's failure (BullMQ's own mechanism for a parent failed by a child). The same
 * steps as BullMQ's `moveParentToWait`, for a job with no priority and no delay, which gathering jobs never have.
 *
 *   KEYS[1] waiting-children  KEYS[2] the job's hash  KEYS[3] wait  KEYS[4] marker  KEYS[5] meta  KEYS[6] events
 *   ARGV[1] job id            ARGV[2] the failure, as the JSON of a serialised CeleriacError
 * Returns 1 when moved, 0 when the job no longer waits for its children (it ran, or failed already).
 */
const failWaitingParentLua = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'defa', ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[1])
-- Wake a worker, unless the queue is paused: its resume adds the marker.
if redis.call('HEXISTS', KEYS[5], 'paused') ~= 1 then redis.call('ZADD', KEYS[4], 0, '0') end
redis.call('XADD', KEYS[6], '*', 'event', 'waiting', 'jobId', ARGV[1], 'prev', 'waiting-children')
return 1
`;

const failCommand = 'celeriacFailWaitingParent';

type DeadlineConnection = Redis & {
  [failCommand](...keysAndArgs: string[]): Promise<number>;
};

/**
 * The children deadlines of workflows: a sorted set of waiting jobs by deadline, swept by every worker. The first
 * sweeper to remove an entry enforces it, so several workers never act twice on one.
 */
export class ChildrenDeadlines {
  private readonly connection: DeadlineConnection;

  constructor(
    connection: Redis,
    private readonly key: string,
    private readonly keyPrefix: string,
    private readonly queue: (name: string) => Queue,
  ) {
    connection.defineCommand(failCommand, { lua: failWaitingParentLua, numberOfKeys: 6 });
    this.connection = connection as DeadlineConnection;
  }

  async add(deadlines: readonly ChildrenDeadline[]): Promise<void> {
    if (deadlines.length === 0) return;
    const members = deadlines.flatMap(({ jobId, queue, atMs }) => [atMs, JSON.stringify([queue, jobId])]);
    await this.connection.zadd(this.key, ...members);
  }

  /**
   * Fails the jobs whose deadline has passed and that still wait for children, then removes their children that have
   * not started, so they never run. Returns how many jobs it failed.
   */
  async enforce(nowMs = Date.now()): Promise<number> {
    const due = await this.connection.zrangebyscore(this.key, 0, nowMs, 'LIMIT', 0, 100);
    let failed = 0;
    for (const member of due) {
      if ((await this.connection.zrem(this.key, member)) === 0) continue; // another worker took it
      const [queue, jobId] = JSON.parse(member) as [string, string];
      if (await this.failWaiting(queue, jobId)) failed += 1;
    }
    return failed;
  }

  private async failWaiting(queue: string, jobId: string): Promise<boolean> {
    const base = `${this.keyPrefix}:${queue}`;
    const failure = new CeleriacError(
      ErrorCode.ChildrenDeadline,
      `Job "${jobId}" was still waiting for its children at its children deadline, so it failed; the children that ` +
        'had not started were removed. Check that workers consume every queue of the workflow, or raise childrenDeadline.',
      { details: { jobId } },
    );
    const moved = await this.connection[failCommand](
      `${base}:waiting-children`,
      `${base}:${jobId}`,
      `${base}:wait`,
      `${base}:marker`,
      `${base}:meta`,
      `${base}:events`,
      jobId,
      JSON.stringify(serializeError(failure)),
    );
    if (moved !== 1) return false;
    await (await Job.fromId(this.queue(queue), jobId))?.removeUnprocessedChildren();
    return true;
  }
}
