/**
 * celeriac's own keys, beside BullMQ's. They sit under `<prefix>:_meta:`, and no queue can be named `_meta`
 * (queue names start with a letter or digit), so they never collide with a queue's keys.
 */
export function metaKeys(keyPrefix: string) {
  const meta = `${keyPrefix}:_meta`;
  return {
    /** Set of every queue a job was ever enqueued to; lets `getJob(id)` find a job without knowing its queue. */
    queues: `${meta}:queues`,
    /** Hash: task name → catalogue entry JSON. */
    catalogue: `${meta}:catalogue`,
    /** Sorted set: worker id → heartbeat expiry (ms). */
    workers: `${meta}:workers`,
    /** String with a TTL: one worker's heartbeat JSON. */
    worker: (id: string) => `${meta}:worker:${id}`,
    /** Pub/sub channel: a message (a job id) tells the worker running that job to cancel it. */
    cancelChannel: `${meta}:cancel`,
    /** Hash with a TTL: attempt number → the attempt's record, for attempts that failed or were lost. */
    attempts: (id: string) => `${meta}:attempts:${id}`,
    /** String with a TTL: the final record of a job cancelled before it ran. */
    cancelled: (id: string) => `${meta}:cancelled:${id}`,
    /** String with a TTL: a workflow's record (its plan, with the id of every job). */
    workflow: (id: string) => `${meta}:workflow:${id}`,
    /** Sorted set: `[queue, job id]` JSON → the job's children deadline (ms); see ChildrenDeadlines. */
    childrenDeadlines: `${meta}:children-deadlines`,
  };
}

/** The key set for one prefix. */
export type MetaKeys = ReturnType<typeof metaKeys>;
