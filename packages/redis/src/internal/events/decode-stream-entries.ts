import type { Redis } from 'ioredis';
import { JobState } from '@celeriac/core';
import type { StreamedJobEvent } from '@celeriac/broker';
import { eventCursorOf } from './event-cursor.js';
import { parseFailedReason, refineState } from '../to-job-record.js';

/** The event name of a job's log line in its queue's BullMQ event stream (BullMQ itself records none). */
export const logEventName = 'celeriac:log';

/** One entry of a queue's event stream, as XREAD returns it. */
export interface RawStreamEntry {
  readonly queue: string;
  /** The stream entry id, `<ms>-<seq>`. */
  readonly id: string;
  /** The entry's fields and values, alternating. */
  readonly fields: readonly string[];
}

/** What decoding needs: where jobs live, and a cache of their task names (a job's task never changes). */
export interface DecodeContext {
  readonly connection: Redis;
  readonly prefix: string;
  /** The key of a cancelled job's tombstone. */
  cancelledKey(id: string): string;
  readonly taskNames: TaskNameCache;
}

/** Task names by job id, the oldest dropped past `maxEntries`, so a long-lived firehose stays bounded. */
export class TaskNameCache {
  private readonly names = new Map<string, string>();
  constructor(private readonly maxEntries = 10_000) {}

  get(queue: string, id: string): string | undefined {
    return this.names.get(`${queue}\0${id}`);
  }

  set(queue: string, id: string, task: string): void {
    const key = `${queue}\0${id}`;
    if (this.names.has(key)) return;
    this.names.set(key, task);
    if (this.names.size > this.maxEntries) this.names.delete(this.names.keys().next().value!);
  }
}

/** One entry on its way to becoming an event, with where its lookups' answers will be in the pipeline. */
interface Pending {
  readonly entry: RawStreamEntry;
  readonly event: string;
  readonly id: string;
  readonly values: Readonly<Record<string, string>>;
  /** The answer to HMGET name, atm. */
  hash?: number;
  /** The answer to EXISTS on the job's cancellation tombstone. */
  tombstone?: number;
}

/**
 * Turns raw BullMQ stream entries into celeriac job events, in order. One pipelined round trip fills what the
 * entries lack: task names not yet cached, the attempts made of delayed jobs (a retry's backoff or a first delay),
 * and whether a removed job left a cancellation tombstone. Entries celeriac has no event for (`added`, `stalled`,
 * `drained`, ...) are dropped; `added` still teaches the cache the job's task.
 */
export async function decodeStreamEntries(
  context: DecodeContext,
  entries: readonly RawStreamEntry[],
  jobId: string | undefined,
): Promise<StreamedJobEvent[]> {
  const pending: Pending[] = [];
  const pipeline = context.connection.pipeline();
  let lookups = 0;
  for (const entry of entries) {
    const values = toRecord(entry.fields);
    const { event, jobId: id } = values;
    if (event === undefined || id === undefined || (jobId !== undefined && id !== jobId)) continue;
    if (event === 'added' && values['name'] !== undefined) context.taskNames.set(entry.queue, id, values['name']);
    if (!decodedEvents.has(event)) continue;
    const item: Pending = { entry, event, id, values };
    if (event === 'delayed' || context.taskNames.get(entry.queue, id) === undefined) {
      pipeline.hmget(`${context.prefix}:${entry.queue}:${id}`, 'name', 'atm');
      item.hash = lookups++;
    }
    if (event === 'removed') {
      pipeline.exists(context.cancelledKey(id));
      item.tombstone = lookups++;
    }
    pending.push(item);
  }
  // Redis away for plain commands: the events still go out, without what the lookups would have added.
  const results = lookups === 0 ? [] : ((await pipeline.exec().catch(() => null)) ?? []);
  const answer = (index: number | undefined): unknown => (index === undefined ? undefined : results[index]?.[1]);
  return pending.flatMap((item) => {
    const hash = answer(item.hash);
    const fields = Array.isArray(hash) ? (hash as (string | null)[]) : [];
    if (typeof fields[0] === 'string') context.taskNames.set(item.entry.queue, item.id, fields[0]);
    const event = toEvent(context, item, Number(fields[1] ?? 0), answer(item.tombstone) === 1);
    return event ? [event] : [];
  });
}

const decodedEvents: ReadonlySet<string> = new Set([
  'waiting',
  'waiting-children',
  'active',
  'delayed',
  'completed',
  'failed',
  'progress',
  'removed',
  logEventName,
]);

function toEvent(
  context: DecodeContext,
  item: Pending,
  attemptsMade: number,
  hasTombstone: boolean,
): StreamedJobEvent | undefined {
  const { entry, event, id, values } = item;
  const task = context.taskNames.get(entry.queue, id);
  const base = {
    cursor: eventCursorOf(entry.id, entry.queue),
    atMs: Number(entry.id.slice(0, entry.id.indexOf('-'))),
    queue: entry.queue,
    id,
    ...(task === undefined ? {} : { task }),
  };
  switch (event) {
    case 'waiting':
    case 'waiting-children':
      return { ...base, type: 'state', state: JobState.Queued };
    case 'active':
      return { ...base, type: 'state', state: JobState.Active };
    case 'delayed':
      // A delayed job that already failed an attempt waits for its retry; otherwise for its delay or ETA.
      return { ...base, type: 'state', state: attemptsMade > 0 ? JobState.Retrying : JobState.Scheduled };
    case 'completed':
      return { ...base, type: 'state', state: JobState.Succeeded };
    case 'failed': {
      // BullMQ's `failed` is final (a retried attempt is `delayed` or `waiting`); cancelled and expired jobs fail
      // with their own codes.
      const error = parseFailedReason(values['failedReason'] ?? '');
      const state = refineState(JobState.Failed, error.code, undefined);
      return { ...base, type: 'state', state, error: { code: error.code, message: error.message } };
    }
    case 'progress':
      return { ...base, type: 'progress', progress: parseJson(values['data']) };
    case logEventName:
      return { ...base, type: 'log', line: values['data'] ?? '' };
    case 'removed':
      // cancelJob writes the tombstone before it removes the job, so the tombstone is there by now.
      return hasTombstone ? { ...base, type: 'state', state: JobState.Cancelled } : { ...base, type: 'removed' };
    default:
      return undefined;
  }
}

function toRecord(fields: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  return record;
}

function parseJson(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
