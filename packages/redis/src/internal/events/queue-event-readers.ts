import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { currentCursor } from './job-event-reader.js';

/**
 * One BullMQ `QueueEvents` per queue, started on the first watch of that queue and shared by every later one.
 *
 * Each starts from a cursor taken before it exists, not from BullMQ's default `$`. `$` means "whatever comes after
 * the first XREAD", and BullMQ sends that only after `waitUntilReady` has resolved and a CLIENT SETNAME has come back:
 * an event in between, such as a job finishing just as its first watch began, was never heard, and `waitForJob`
 * waited for it until its timeout.
 */
export class QueueEventReaders {
  private readonly readers = new Map<string, Promise<QueueEvents>>();

  constructor(
    /** The command connection, for the starting cursor (Redis' clock). */
    private readonly connection: Redis,
    private readonly prefix: string,
    /** Opens the blocking connection a reader owns. */
    private readonly openBlocking: () => Redis,
  ) {}

  /** The queue's reader, started now if it is the queue's first watch. */
  get(queue: string): Promise<QueueEvents> {
    let reader = this.readers.get(queue);
    if (!reader) {
      const starting = this.start(queue);
      // A start that failed (Redis away) is not kept: the next watch tries again.
      starting.catch(() => {
        if (this.readers.get(queue) === starting) this.readers.delete(queue);
      });
      this.readers.set(queue, starting);
      reader = starting;
    }
    return reader;
  }

  /** Closes every reader, waiting for those still starting, so none outlives the broker. */
  async close(): Promise<void> {
    const readers = await Promise.allSettled(this.readers.values());
    await Promise.all(readers.map((reader) => (reader.status === 'fulfilled' ? reader.value.close() : undefined)));
  }

  private async start(queue: string): Promise<QueueEvents> {
    const lastEventId = await currentCursor(this.connection);
    const reader = new QueueEvents(queue, { connection: this.openBlocking(), prefix: this.prefix, lastEventId });
    reader.on('error', () => {});
    await reader.waitUntilReady();
    return reader;
  }
}
