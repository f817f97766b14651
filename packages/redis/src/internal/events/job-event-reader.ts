import type { Redis } from 'ioredis';
import type { EventSubscription, EventSubscriptionOptions, StreamedJobEvent } from '@celeriac/broker';
import { decodeStreamEntries, type DecodeContext, type RawStreamEntry } from './decode-stream-entries.js';
import { compareLogPositions, parseEventCursor, streamStartOf } from './event-cursor.js';

/** What a subscription needs from the broker that starts it. */
export interface JobEventReaderContext extends DecodeContext {
  /** The key of the set of every queue's name. */
  readonly queuesKey: string;
  /** Opens the blocking connection the subscription owns. */
  openConnection(): Redis;
}

/** How long one XREAD blocks: also how often a firehose looks for new queues, and the longest close() waits. */
const blockMs = 1_000;
/** Entries read per stream per round trip. */
const batchSize = 500;

/**
 * Starts a subscription, after the cursor `options.after`, to the queues' BullMQ event streams (`<prefix>:<queue>:events`), read with XREAD from one
 * blocking connection of its own. Its own reader, rather than BullMQ's QueueEvents: QueueEvents has a single
 * position per instance, while each subscriber here resumes from its own cursor, and the firehose reads every
 * queue in one XREAD.
 *
 * With several queues, one cursor resumes them all: stream ids come from the Redis server's clock, so the queues'
 * events merge into one log ordered by id, then by queue name (see {@link parseEventCursor}).
 */
export function startJobEventReader(
  context: JobEventReaderContext,
  options: EventSubscriptionOptions & { readonly after: string },
  listener: (event: StreamedJobEvent) => void,
): EventSubscription {
  const startedAfter = options.after;
  const start = parseEventCursor(startedAfter);
  const cursors = new Map<string, string>((options.queues ?? []).map((queue) => [queue, streamStartOf(start, queue)]));
  const blocking = context.openConnection();
  let closed = false;
  const loop = (async () => {
    let queuesReadAtMs = 0;
    while (!closed) {
      if (options.queues === undefined && Date.now() - queuesReadAtMs >= blockMs) {
        // A firehose follows queues created after it started, from where it started.
        queuesReadAtMs = Date.now();
        const names = await context.connection.smembers(context.queuesKey).catch(() => []);
        for (const name of names) if (!cursors.has(name)) cursors.set(name, streamStartOf(start, name));
      }
      if (cursors.size === 0) {
        await sleep(blockMs / 4);
        continue;
      }
      const entries = await readOnce(blocking, context.prefix, cursors).catch(async () => {
        // Closed under us (the normal end), or Redis away: the connection reconnects; wait a little and go on.
        if (!closed) await sleep(blockMs / 4);
        return [];
      });
      if (entries.length === 0 || closed) continue;
      for (const event of await decodeStreamEntries(context, entries, options.jobId)) {
        if (closed) break;
        listener(event);
      }
    }
  })().catch(() => {
    // Only a throwing listener gets here; its subscription stops, as if closed.
    closed = true;
    blocking.disconnect();
  });
  return {
    startedAfter,
    async close() {
      if (closed) return;
      closed = true;
      // disconnect(), not quit(): QUIT would wait behind the blocked XREAD for up to blockMs.
      blocking.disconnect();
      await loop;
    },
  };
}

/**
 * One XREAD over every followed stream; entries come back merged in log order, and the cursors move past them.
 *
 * A stream that filled its batch may hold more entries before another stream's last one, so the merged batch ends
 * at the earliest last entry of a full stream: what lies past it is read again next time, in its place in the
 * order. Without the cut, a client that resumed from an event past it would never get those entries.
 */
async function readOnce(connection: Redis, prefix: string, cursors: Map<string, string>): Promise<RawStreamEntry[]> {
  const queues = [...cursors.keys()];
  const reply = (await connection.xread(
    'COUNT',
    batchSize,
    'BLOCK',
    blockMs,
    'STREAMS',
    ...queues.map((queue) => `${prefix}:${queue}:events`),
    ...queues.map((queue) => cursors.get(queue)!),
  )) as [string, [string, string[]][]][] | null;
  if (!reply) return [];
  const entries: RawStreamEntry[] = [];
  let cut: RawStreamEntry | undefined;
  for (const [key, streamEntries] of reply) {
    const queue = key.slice(prefix.length + 1, key.length - ':events'.length);
    for (const [id, fields] of streamEntries) entries.push({ queue, id, fields });
    const last = entries.at(-1);
    if (streamEntries.length === batchSize && (!cut || compareLogPositions(last!, cut) < 0)) cut = last;
  }
  if (reply.length > 1) entries.sort(compareLogPositions); // one stream's entries are in order already
  const kept = cut ? entries.slice(0, entries.indexOf(cut) + 1) : entries;
  for (const entry of kept) cursors.set(entry.queue, entry.id);
  return kept;
}

/** A cursor just before now, from the Redis server's clock (the one stream ids come from). */
export async function currentCursor(connection: Redis): Promise<string> {
  const [seconds, micros] = await connection.time();
  // One millisecond back: an event recorded in this very millisecond, after TIME answered, is not missed.
  return `${Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - 1}-0`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
