import type { JobState } from '@celeriac/core';

/** What every {@link StreamedJobEvent} carries. */
interface StreamedJobEventBase {
  /**
   * Where this event sits in the broker's event log, opaque to callers: pass it back as
   * {@link EventSubscriptionOptions.after} to resume right after it (the HTTP API uses it as the SSE event id).
   */
  readonly cursor: string;
  /** When the broker recorded the event, in ms since the epoch. */
  readonly atMs: number;
  readonly queue: string;
  /** The job's id. */
  readonly id: string;
  /** The job's task; absent when the job was already gone when the event was read. */
  readonly task?: string;
}

/**
 * One change in a job's life, read from the broker's durable event log: a new state, a progress value, a log line,
 * or its removal.
 * Unlike {@link JobEvent} (live only, one job), these carry a cursor, so a reader can resume where it stopped.
 */
export type StreamedJobEvent =
  | (StreamedJobEventBase & {
      readonly type: 'state';
      readonly state: JobState;
      /** The failure's code and message, when the new state is `failed`, `cancelled` or `expired`. */
      readonly error?: { readonly code: string; readonly message: string };
    })
  | (StreamedJobEventBase & { readonly type: 'progress'; readonly progress: unknown })
  | (StreamedJobEventBase & { readonly type: 'log'; readonly line: string })
  /** The job was deleted (a queue drained or cleaned, a job removed by hand) and exists no more. */
  | (StreamedJobEventBase & { readonly type: 'removed' });

/** What {@link JobEventStream.subscribeEvents} listens to. */
export interface EventSubscriptionOptions {
  /** Only these queues. Default: every queue, including queues created after the subscription started. */
  readonly queues?: readonly string[];
  /** Only this job's events. */
  readonly jobId?: string;
  /**
   * Resume strictly after this cursor (an event's `cursor`). Default: from now. Events older than the broker keeps
   * (BullMQ keeps about the last 10,000 per queue) are gone; the subscription then starts at the oldest it has.
   */
  readonly after?: string;
}

/** A running subscription; close it to release its Redis connection. */
export interface EventSubscription {
  /** The cursor the subscription started after: events from here on are delivered. */
  readonly startedAfter: string;
  /** Stops delivering and releases the subscription's connection. Safe to call more than once. */
  close(): Promise<void>;
}

/** The broker's job event log, for live views (the API's server-sent events). */
export interface JobEventStream {
  /**
   * Delivers job events in order as they are recorded, until closed. Each subscription holds one connection of
   * its own, so close it when its reader goes away.
   * @throws CeleriacError `CELERIAC_INVALID_REQUEST` for a malformed `after`, `CELERIAC_BROKER_UNAVAILABLE`
   */
  subscribeEvents(
    options: EventSubscriptionOptions,
    listener: (event: StreamedJobEvent) => void,
  ): Promise<EventSubscription>;
}
