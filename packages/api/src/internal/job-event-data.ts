import { isTerminalState, type JobRecord } from '@celeriac/core';
import type { StreamedJobEvent } from '@celeriac/broker';

/**
 * The JSON an SSE event carries for one job event: the event without its type (that is the SSE event name) and
 * without its cursor (that is the SSE id).
 */
export function toEventData(event: StreamedJobEvent): Record<string, unknown> {
  const data: Record<string, unknown> = { ...event };
  delete data['type'];
  delete data['cursor'];
  return data;
}

/**
 * The first event of a job's stream: its state now, with its progress and last log lines, so a client that
 * subscribes late (even after the job finished) has everything a live view shows. Never the input or result: those
 * can be large, and `GET /v1/jobs/:id` has them.
 */
export function toSnapshotData(record: JobRecord): Record<string, unknown> {
  return {
    id: record.id,
    queue: record.queue,
    task: record.task,
    state: record.state,
    snapshot: true,
    attempts: record.attempts,
    ...(record.progress === undefined ? {} : { progress: record.progress }),
    ...(record.error === undefined ? {} : { error: { code: record.error.code, message: record.error.message } }),
    ...(record.logs === undefined ? {} : { logs: record.logs }),
  };
}

/** Whether a job's stream ends with this event: the job reached a terminal state, or was deleted. */
export function endsJobStream(event: StreamedJobEvent): boolean {
  return event.type === 'removed' || (event.type === 'state' && isTerminalState(event.state));
}
