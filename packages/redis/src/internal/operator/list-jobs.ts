import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobState, jobRecordSchema, jobStates, type JobSummary } from '@celeriac/core';
import type { JobListQuery, JobPage } from '@celeriac/broker';
import { parseFailedReason, refineState, toJobState, type BullState } from '../to-job-record.js';
import { compareForListing, decodeJobCursor, encodeJobCursor, isAfterCursor } from './job-cursor.js';

/** What the listing reads from the broker. */
export interface ListJobsContext {
  readonly connection: Redis;
  queue(name: string): Queue;
  /** Every queue a job was ever enqueued to. */
  queueNames(): Promise<readonly string[]>;
  /** The sorted set of jobs cancelled before they ran, and the key of each one's record. */
  readonly cancelledIndex: string;
  cancelledKey(id: string): string;
}

/** BullMQ's sets (lists or sorted sets) where jobs of each celeriac state can be. */
const sourcesOf: Readonly<Record<JobState, readonly string[]>> = {
  queued: ['wait', 'prioritized', 'waiting-children'],
  scheduled: ['delayed'],
  retrying: ['delayed'],
  active: ['active'],
  succeeded: ['completed'],
  failed: ['failed'],
  cancelled: ['failed'],
  expired: ['failed'],
};

/** The fields of BullMQ's job hash a summary needs: never the data or the result, which can be large. */
const fields = ['name', 'timestamp', 'processedOn', 'finishedOn', 'atm', 'failedReason', 'opts'] as const;

/**
 * Lists jobs for operators: reads the ids in the BullMQ sets that can hold the asked states, then a few fields of
 * each job, filters, sorts by creation time and cuts the page after the cursor. It costs one short read per job in
 * those sets (bounded by retention), so narrowing by state and queue makes it cheaper; jobs cancelled before they
 * ran come from their cancellation records.
 */
export async function listJobs(context: ListJobsContext, query: JobListQuery): Promise<JobPage> {
  const states = new Set<JobState>(query.states ?? jobStates);
  const queues = query.queues ?? (await context.queueNames());
  const cursor = query.cursor === undefined ? undefined : decodeJobCursor(query.cursor);
  const tasks = query.tasks === undefined ? undefined : new Set(query.tasks);
  const types = [...new Set([...states].flatMap((state) => sourcesOf[state]))];
  const ids = query.ids === undefined ? undefined : new Set(query.ids);
  const found = await Promise.all(
    queues.map((name) => (ids ? readJobs(context, context.queue(name), [...ids]) : readQueue(context, context.queue(name), types))),
  );
  const candidates = found.flat();
  if (states.has(JobState.Cancelled)) candidates.push(...(await readCancelled(context, queues, ids)));
  const seen = new Set<string>();
  const matching = candidates.filter((job) => {
    const createdAtMs = Date.parse(job.createdAt);
    // A job that moved between two sets during the reads shows up twice: keep its first sighting.
    if (seen.has(job.id)) return false;
    seen.add(job.id);
    if (!states.has(job.state) || (tasks && !tasks.has(job.task)) || (ids && !ids.has(job.id))) return false;
    if (query.createdAfterMs !== undefined && createdAtMs < query.createdAfterMs) return false;
    if (query.createdBeforeMs !== undefined && createdAtMs >= query.createdBeforeMs) return false;
    return cursor === undefined || isAfterCursor(createdAtMs, job.id, cursor);
  });
  const key = (job: JobSummary) => ({ createdAtMs: Date.parse(job.createdAt), id: job.id });
  matching.sort((a, b) => compareForListing(key(a), key(b)));
  const jobs = matching.slice(0, query.limit);
  const last = jobs.at(-1);
  return matching.length > query.limit && last ? { jobs, nextCursor: encodeJobCursor(key(last)) } : { jobs };
}

/** The summaries of one queue's jobs in the given BullMQ sets. */
async function readQueue(context: ListJobsContext, queue: Queue, types: readonly string[]): Promise<JobSummary[]> {
  const byType = await Promise.all(
    types.map(async (type) => ({ type, ids: await queue.getRanges([type as 'wait'], 0, -1, false) })),
  );
  return readSummaries(context, queue, byType.flatMap(({ type, ids }) => ids.map((id) => ({ type, id }))));
}

/**
 * The summaries of those of the given jobs that are on one queue: which of them exist there, in one round trip,
 * then the set each one is in (BullMQ's state), then their fields. It never scans the queue's sets.
 */
async function readJobs(context: ListJobsContext, queue: Queue, ids: readonly string[]): Promise<JobSummary[]> {
  const pipeline = context.connection.pipeline();
  for (const id of ids) pipeline.exists(queue.toKey(id));
  const exists = (await pipeline.exec()) ?? [];
  const present = ids.filter((_, index) => exists[index]?.[0] === null && exists[index]?.[1] === 1);
  const entries = await Promise.all(present.map(async (id) => ({ id, type: await queue.getJobState(id) })));
  // 'unknown': removed since it was found.
  return readSummaries(context, queue, entries.filter(({ type }) => type !== 'unknown'));
}

/** The summaries of jobs of one queue, each in a known BullMQ set, from a few fields of each one's hash. */
async function readSummaries(
  context: ListJobsContext,
  queue: Queue,
  entries: readonly { readonly id: string; readonly type: string }[],
): Promise<JobSummary[]> {
  if (entries.length === 0) return [];
  const pipeline = context.connection.pipeline();
  for (const { id } of entries) pipeline.hmget(queue.toKey(id), ...fields);
  const replies = (await pipeline.exec()) ?? [];
  const summaries: JobSummary[] = [];
  for (const [index, { type, id }] of entries.entries()) {
    const [error, values] = replies[index] ?? [null, null];
    if (error || !Array.isArray(values)) continue;
    const summary = toSummary(queue.name, id, type, values as (string | null)[]);
    if (summary) summaries.push(summary);
  }
  return summaries;
}

/** A summary from the hash fields in {@link fields}; `undefined` when the job was removed since its id was read. */
function toSummary(queue: string, id: string, type: string, values: readonly (string | null)[]): JobSummary | undefined {
  const [name, timestamp, processedOn, finishedOn, atm, failedReason, optsJson] = values;
  if (name === null || name === undefined || !timestamp) return undefined;
  const opts = parseOpts(optsJson ?? null);
  const attemptsMade = Number(atm ?? 0);
  const error = failedReason ? parseFailedReason(failedReason) : undefined;
  // `type` is a set's name (`wait`, ...) or, for jobs listed by id, BullMQ's state (`waiting`, ...): every waiting
  // kind is queued.
  const state = refineState(toJobState(type as BullState, attemptsMade) ?? JobState.Queued, error?.code, undefined);
  const createdAtMs = Number(timestamp);
  const summary: JobSummary = {
    id,
    task: name,
    queue,
    state,
    priority: opts.priority ?? 0,
    attempts: { made: attemptsMade, max: Math.max(1, opts.attempts ?? 1) },
    createdAt: new Date(createdAtMs).toISOString(),
  };
  if (state === JobState.Scheduled && opts.delay) summary.runAt = new Date(createdAtMs + opts.delay).toISOString();
  if (processedOn) summary.startedAt = new Date(Number(processedOn)).toISOString();
  if (finishedOn) summary.finishedAt = new Date(Number(finishedOn)).toISOString();
  if (error && type === 'failed') summary.error = { code: error.code, message: error.message };
  return summary;
}

function parseOpts(raw: string | null): { attempts?: number; priority?: number; delay?: number } {
  try {
    const opts: unknown = raw === null ? {} : JSON.parse(raw);
    return typeof opts === 'object' && opts !== null ? (opts as Record<string, number>) : {};
  } catch {
    return {};
  }
}

/**
 * The jobs cancelled before they ran, on the listed queues: every one in the index, or only those of `only` (a
 * listing of given jobs, such as a workflow's view, reads just their records). Their records expire on their own; an
 * index entry whose record is gone is dropped when the whole index is read, so the index never outgrows the records.
 */
async function readCancelled(
  context: ListJobsContext,
  queues: readonly string[],
  only: ReadonlySet<string> | undefined,
): Promise<JobSummary[]> {
  const ids = only ? [...only] : await context.connection.zrange(context.cancelledIndex, 0, -1);
  if (ids.length === 0) return [];
  const raw = await context.connection.mget(ids.map((id) => context.cancelledKey(id)));
  const gone = ids.filter((_, index) => raw[index] === null);
  if (!only && gone.length > 0) await context.connection.zrem(context.cancelledIndex, ...gone);
  const wanted = new Set(queues);
  const summaries: JobSummary[] = [];
  for (const value of raw) {
    const parsed = value === null ? undefined : safeRecord(value);
    if (!parsed || !wanted.has(parsed.queue)) continue;
    const { id, task, queue, state, priority, attempts, createdAt, startedAt, finishedAt } = parsed;
    summaries.push({
      id,
      task,
      queue,
      state,
      priority,
      attempts,
      createdAt,
      ...(startedAt === undefined ? {} : { startedAt }),
      ...(finishedAt === undefined ? {} : { finishedAt }),
    });
  }
  return summaries;
}

function safeRecord(raw: string) {
  try {
    const parsed = jobRecordSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
