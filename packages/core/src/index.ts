/**
 * @celeriac/core: the vocabulary every other celeriac package shares: task declarations, the job envelope,
 * job states, durations, option validation and the error catalogue.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { defineTask, TaskFailure } from '@celeriac/core';
 *
 * export const add = defineTask({
 *   name: 'add',
 *   input: z.object({ x: z.number(), y: z.number() }),
 *   output: z.number(),
 *   handler: ({ x, y }) => {
 *     if (!Number.isFinite(x + y)) throw TaskFailure.nonRetryable('The sum is not finite');
 *     return x + y;
 *   },
 * });
 * ```
 * @packageDocumentation
 */
export { ErrorCode, errorCatalogue, isErrorCode, type ErrorSpec } from './errors/error-catalogue.js';
export {
  CeleriacError,
  isCeleriacError,
  serializeError,
  deserializeError,
  type CeleriacErrorOptions,
  type SerializedError,
} from './errors/celeriac-error.js';
export { TaskFailure, type TaskFailureOptions, type RetryableFailureOptions } from './errors/task-failure.js';
export {
  resolveOptions,
  toValidationIssues,
  formatValidationIssues,
  type ValidationIssue,
} from './options/resolve-options.js';
export { omitUndefined, type OmitUndefined } from './options/omit-undefined.js';
export { durationMs, type Duration } from './time/duration.js';
export { JobState, jobStates, isTerminalState } from './job/job-state.js';
export {
  JobSource,
  envelopeVersion,
  jobEnvelopeSchema,
  createJobEnvelope,
  decodeJobEnvelope,
  type JobEnvelope,
  type JobMeta,
} from './job/job-envelope.js';
export {
  jobRecordSchema,
  serializedErrorSchema,
  attemptRecordSchema,
  type JobRecord,
  type AttemptRecord,
} from './job/job-record.js';
export {
  Backoff,
  retryPolicySchema,
  computeBackoffMs,
  isRetriedByPolicy,
  type RetryPolicy,
  type RetryPolicyOptions,
} from './task/retry-policy.js';
export {
  concurrencyLimitSchema,
  rateLimitSchema,
  type ConcurrencyLimit,
  type ConcurrencyLimitOptions,
  type RateLimit,
  type RateLimitOptions,
  type LimitKey,
} from './task/task-limits.js';
export {
  defineTask,
  nameSchema,
  Isolation,
  type TimeLimitOptions,
  type TaskDefinition,
  type TaskOptions,
  type TaskHandler,
  type TaskResources,
  type TaskInput,
  type TaskOutput,
} from './task/define-task.js';
export type { TaskContext, GpuKernel, GpuRunner } from './task/task-context.js';
export { catalogueEntrySchema, toCatalogueEntry, type CatalogueEntry } from './catalogue/task-catalogue.js';
export {
  workerInfoSchema,
  gpuCapabilitySchema,
  type WorkerInfo,
  type GpuCapability,
} from './catalogue/worker-info.js';
export {
  ChildFailure,
  maxFanOut,
  maxWorkflowDepth,
  workflowNodeSchema,
  type WorkflowNode,
  type TaskNode,
  type ChainNode,
  type GroupNode,
  type ChordNode,
  type MapNode,
  type ChunksNode,
  type FanInOptions,
} from './workflow/workflow-node.js';
export {
  sig,
  chain,
  group,
  chord,
  map,
  starmap,
  chunks,
  parseWorkflowNode,
  type Canvas,
  type Step,
  type StepOutput,
  type FanIn,
} from './workflow/canvas.js';
export {
  flowSpecSchema,
  flowParentSchema,
  flowJobs,
  withInput,
  type FlowSpec,
  type FlowJob,
  type FlowChild,
  type FlowParent,
} from './workflow/flow-spec.js';
export { GatherShape, workflowMetaSchema, type WorkflowMeta } from './workflow/workflow-meta.js';
export {
  workflowRecordSchema,
  workflowState,
  type WorkflowRecord,
  type WorkflowTree,
  type WorkflowTreeState,
} from './workflow/workflow-record.js';
