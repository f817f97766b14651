/**
 * @celeriac/client: the producer SDK. Enqueue typed tasks, follow their jobs, await results. It is light: it
 * never pulls in the worker, the GPU runtime or the HTTP server.
 *
 * @example
 * ```ts
 * import { createClient } from '@celeriac/client';
 * import { add } from './tasks.js';
 *
 * const client = createClient({ connection: process.env.REDIS_URL });
 * const job = await client.enqueue(add, { x: 2, y: 3 });
 * console.log(job.id, await job.result({ timeoutMs: 5_000 }));
 * await client.close();
 * ```
 * @packageDocumentation
 */
export { createClient, type Client, type ClientOptions } from './create-client.js';
export { resolveEnqueueOptions, type EnqueueOptions, type ResolvedEnqueueOptions } from './enqueue-options.js';
export { createJobHandle, type JobHandle, type ResultOptions } from './job-handle.js';
export { createCatalogueCache, type CatalogueCache } from './catalogue-cache.js';
export type { JobEvent, JobOutcome } from '@celeriac/broker';
export type { WorkflowHandle, WorkflowView } from './workflow/workflow-handle.js';
export { sig, chain, group, chord, map, starmap, chunks, ChildFailure, type Canvas } from '@celeriac/core';
export { resolveScheduleOptions, type ScheduleOptions, type ClientSchedules } from './schedules.js';
export type { ScheduleRecord, ScheduleSpec } from '@celeriac/broker';
export type {
  ClientOperator,
  BulkItem,
  NamedBulkItem,
  BulkEnqueued,
  ListJobsOptions,
  WorkerView,
  ControlOptions,
} from './operator.js';
export type { JobPage, QueueSummary } from '@celeriac/broker';
export type { ControlReport, ControlReply, ControlRequest, JobSummary } from '@celeriac/core';
