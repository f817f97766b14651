import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CeleriacError, ErrorCode, type WorkerInfo } from '@celeriac/core';
import type { QueueSummary } from '@celeriac/broker';

/** What queue administration reads through the broker. */
export interface QueueAdminContext {
  readonly connection: Redis;
  /** The set of every queue a job was ever enqueued to. */
  readonly queuesKey: string;
  queue(name: string): Queue;
  listWorkers(): Promise<WorkerInfo[]>;
}

/** Queue counts, pause, resume and drain, on BullMQ's own operations. */
export class QueueAdmin {
  constructor(private readonly context: QueueAdminContext) {}

  async list(): Promise<QueueSummary[]> {
    const names = await this.names();
    return Promise.all(names.map((name) => summarizeQueue(this.context.queue(name))));
  }

  /** BullMQ keeps a pause in the queue's meta key: every worker sees it, across restarts, until resumed. */
  async setPaused(name: string, paused: boolean): Promise<QueueSummary> {
    const queue = await this.known(name);
    await (paused ? queue.pause() : queue.resume());
    return summarizeQueue(queue);
  }

  /**
   * Removes a queue's waiting jobs (and delayed ones with `delayed`), with BullMQ's drain. The count is the drop in
   * those sets across the call: exact on a quiet queue, approximate while jobs are being added or taken meanwhile.
   */
  async drain(name: string, delayed: boolean): Promise<{ removed: number }> {
    const queue = await this.known(name);
    const types = ['wait', 'prioritized', ...(delayed ? ['delayed' as const] : [])] as const;
    const before = await queue.getJobCountByTypes(...types);
    await queue.drain(delayed);
    const after = await queue.getJobCountByTypes(...types);
    return { removed: Math.max(0, before - after) };
  }

  /** Queues enqueued to, and queues live workers consume (a worker may wait on one nobody enqueued to yet). */
  private async names(): Promise<string[]> {
    const { connection, queuesKey, listWorkers } = this.context;
    const [enqueued, workers] = await Promise.all([connection.smembers(queuesKey), listWorkers()]);
    return [...new Set([...enqueued, ...workers.flatMap((worker) => worker.queues)])].sort();
  }

  private async known(name: string): Promise<Queue> {
    const names = await this.names();
    if (!names.includes(name)) throw queueNotFound(name, names);
    return this.context.queue(name);
  }
}

/** A queue's counts by celeriac's grouping of BullMQ's sets, and whether it is paused. */
async function summarizeQueue(queue: Queue): Promise<QueueSummary> {
  const [counts, paused] = await Promise.all([
    queue.getJobCounts('wait', 'prioritized', 'waiting-children', 'delayed', 'active', 'completed', 'failed'),
    queue.isPaused(),
  ]);
  const count = (type: string) => counts[type] ?? 0;
  return {
    name: queue.name,
    paused,
    counts: {
      queued: count('wait') + count('prioritized') + count('waiting-children'),
      delayed: count('delayed'),
      active: count('active'),
      succeeded: count('completed'),
      failed: count('failed'),
    },
  };
}

function queueNotFound(name: string, known: readonly string[]): CeleriacError {
  return new CeleriacError(
    ErrorCode.QueueNotFound,
    `Queue "${name}" is unknown: no job was ever enqueued to it and no live worker consumes it. ` +
      `Check the name; the known queues are ${known.length === 0 ? 'none yet' : known.join(', ')}.`,
    { details: { queue: name } },
  );
}
