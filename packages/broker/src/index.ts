/**
 * @celeriac/broker: the contract between celeriac and its message broker. Applications rarely use it directly;
 * `@celeriac/redis` implements it, and the worker, client and API depend only on this interface.
 *
 * @example
 * ```ts
 * import type { Broker } from '@celeriac/broker';
 * async function depth(broker: Broker, id: string) {
 *   const job = await broker.getJob(id);
 *   return job?.state ?? 'not found';
 * }
 * ```
 * Implementations check themselves with `describeBrokerConformance` from `@celeriac/broker/conformance`.
 * @packageDocumentation
 */
export type {
  Broker,
  EnqueueRequest,
  JobOutcome,
  JobEvent,
  LimitRequest,
  LimitDecision,
  ReceivedJob,
  JobProcessor,
  ConsumeOptions,
  Consumer,
  CancelOutcome,
} from './broker.js';
export type { WorkflowStore, ChildResults, ChildrenDeadline } from './workflow-store.js';
export type { ScheduleStore, ScheduleSpec, ScheduleRequest, ScheduleRecord } from './schedule-store.js';
export type { OperatorStore, JobListQuery, JobPage, RetryOutcome, QueueSummary } from './operator-store.js';
export type {
  ControlBus,
  ControlHandler,
  ControlHandlerResult,
  ControlListener,
  SendControlOptions,
} from './control-bus.js';
export type {
  JobEventStream,
  StreamedJobEvent,
  EventSubscription,
  EventSubscriptionOptions,
} from './job-event-stream.js';
export type { JobStatsStore, JobStats, TaskDurationStats, TaskFailureStats } from './job-stats.js';
