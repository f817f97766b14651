import type { Redis } from 'ioredis';
import { logEventName } from './decode-stream-entries.js';

/** About as many entries as BullMQ keeps in a queue's event stream (its `maxLenEvents` default). */
const maxStreamEntries = 10_000;

/**
 * Records a job's log line in its queue's event stream, beside BullMQ's own events: BullMQ keeps log lines in a
 * list and announces none, and live views (the API's server-sent events) follow the stream. The stream is trimmed
 * the way BullMQ trims it, so log lines cannot grow it without bound.
 */
export async function appendLogEvent(connection: Redis, prefix: string, queue: string, id: string, line: string): Promise<void> {
  await connection.xadd(`${prefix}:${queue}:events`, 'MAXLEN', '~', maxStreamEntries, '*', 'event', logEventName, 'jobId', id, 'data', line);
}
