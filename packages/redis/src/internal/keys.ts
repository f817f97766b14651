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
    /** Sorted set: id → cancel time (ms) of jobs cancelled before they ran, so listings find their records. */
    cancelledIndex: `${meta}:cancelled-jobs`,
    /** Pub/sub channel: remote-control commands to workers (JSON); see RedisControlBus. */
    controlChannel: `${meta}:control`,
    /** Pub/sub channel: the workers' replies to one control command. */
    controlReply: (requestId: string) => `${meta}:control-reply:${requestId}`,
    /** Hash with a TTL: attempt number → the attempt's record, for attempts that failed or were lost. */
    attempts: (id: string) => `${meta}:attempts:${id}`,
    /** String with a TTL: the final record of a job cancelled before it ran. */
    cancelled: (id: string) => `${meta}:cancelled:${id}`,
    /** String with the same TTL: the blob of the typed arrays in a cancelled job's input (see BinaryStore). */
    cancelledBinary: (id: string) => `${meta}:cancelled-binary:${id}`,
    /** String: a workflow job's input blob, written before the job exists and moved into its hash right after. */
    staged: (blobId: string) => `${meta}:staged:${blobId}`,
    /**
     * String: the blob of a schedule's input, copied into each firing's hash when the firing is first read. It lives
     * as long as the schedule's input, then expires after a grace period (see RedisScheduleStore).
     */
    scheduleInput: (blobId: string) => `${meta}:schedule-input:${blobId}`,
    /** String with a TTL: a workflow's record (its plan, with the id of every job). */
    workflow: (id: string) => `${meta}:workflow:${id}`,
    /** Sorted set: `[queue, job id]` JSON → the job's children deadline (ms); see ChildrenDeadlines. */
    childrenDeadlines: `${meta}:children-deadlines`,
    /** Hash: job statistics every consumer adds to (durations by task, failures by code); see JobStatsRecorder. */
    stats: `${meta}:stats`,
  };
}

/** The key set for one prefix. */
export type MetaKeys = ReturnType<typeof metaKeys>;
