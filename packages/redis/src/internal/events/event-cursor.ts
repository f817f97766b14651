import { CeleriacError, ErrorCode } from '@celeriac/core';

/**
 * A place in the merged event log of every queue: a stream entry id (`<ms>-<seq>`), and the queue it was read from.
 *
 * Each queue has a stream of its own, and two streams can hold the same id (both stamped in one millisecond of the
 * Redis server's clock). So the merged log is ordered by (ms, seq, queue name), and an event's cursor names its
 * queue: `<ms>-<seq>@<queue>`. Resuming after it then misses nothing, same-millisecond events of other queues
 * included. A bare `<ms>-<seq>` (a point in time, not an event) means "after this id in every queue".
 */
export interface EventCursor {
  readonly ms: bigint;
  readonly seq: bigint;
  /** The queue of the event the cursor names; absent for a bare point in time. */
  readonly queue?: string;
}

const cursorPattern = /^(\d{1,20})-(\d{1,20})(?:@([a-z0-9][a-z0-9._-]{0,127}))?$/;
/** The largest sequence number of a stream id: the predecessor of `<ms>-0` is `<ms - 1>-<this>`. */
const maxSeq = 2n ** 64n - 1n;

/**
 * Reads a cursor a caller passed back.
 * @throws CeleriacError `CELERIAC_INVALID_REQUEST` when it is not one
 */
export function parseEventCursor(text: string): EventCursor {
  const match = cursorPattern.exec(text);
  if (!match) {
    throw new CeleriacError(
      ErrorCode.InvalidRequest,
      `"${text}" is not an event cursor. Resume with the id of an event this stream sent (like 1700000000000-0@default), or without one.`,
      { details: { after: text } },
    );
  }
  const [, ms, seq, queue] = match;
  return { ms: BigInt(ms!), seq: BigInt(seq!), ...(queue === undefined ? {} : { queue }) };
}

/** The cursor of the event at stream id `id` of `queue`. */
export function eventCursorOf(id: string, queue: string): string {
  return `${id}@${queue}`;
}

/**
 * The stream id to XREAD `queue` from (XREAD returns entries strictly after it) so that exactly its events after
 * `cursor` come back: a queue that sorts after the cursor's own also has its entry at the cursor's very id still to
 * come, so it starts one id earlier.
 */
export function streamStartOf(cursor: EventCursor, queue: string): string {
  if (cursor.queue === undefined || queue <= cursor.queue) return `${cursor.ms}-${cursor.seq}`;
  if (cursor.seq > 0n) return `${cursor.ms}-${cursor.seq - 1n}`;
  return cursor.ms > 0n ? `${cursor.ms - 1n}-${maxSeq}` : '0-0';
}

/** Orders two entries of the merged log: by stream id, then by queue name. */
export function compareLogPositions(a: { id: string; queue: string }, b: { id: string; queue: string }): number {
  const [aMs, aSeq] = a.id.split('-').map(BigInt) as [bigint, bigint];
  const [bMs, bSeq] = b.id.split('-').map(BigInt) as [bigint, bigint];
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0;
}
