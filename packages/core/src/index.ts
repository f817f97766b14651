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
  TypedArrayDtype,
  dtypeOf,
  typedArrayConstructorOf,
  type AnyTypedArray,
  type TypedArrayConstructor,
} from './payload/typed-array-dtype.js';
export {
  typedArrayDtypeKey,
  f32Array,
  f64Array,
  i32Array,
  u32Array,
  u8Array,
  bytes,
  type TypedArraySchema,
} from './payload/typed-array-schemas.js';
export {
  binaryPayloadKey,
  binaryArrayKey,
  defaultMaxPayloadBytes,
  encodeBinaryPayload,
  decodeBinaryPayload,
  isBinaryPayload,
  type BinaryPayload,
  type EncodedPayload,
  type EncodePayloadOptions,
} from './payload/binary-payload.js';
export { jobSummarySchema, type JobSummary } from './job/job-summary.js';
export {
  ControlCommand,
  controlRequestSchema,
  controlReplySchema,
  controlReportSchema,
  rateSpecSchema,
  toRateLimit,
  type ControlRequest,
  type ControlReply,
  type ControlReport,
  type RateSpec,
} from './control/worker-control.js';
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
export {
  AdapterType,
  taskResourcesSchema,
  usesGpu,
  defaultGpuQueue,
  minGpuShare,
  maxGpuCount,
  type ResolvedTaskResources,
} from './task/task-resources.js';
export { matchResources, gpuCountOf, adapterKindOf, type ResourceMatch } from './resources/match-resources.js';
export {
  WaitingReason,
  waitingForSchema,
  findWaitingFor,
  type WaitingFor,
} from './resources/waiting-for.js';
export type { TaskContext, GpuKernel, GpuRunner, GpuRunOptions, KernelRange } from './task/task-context.js';
export { catalogueEntrySchema, toCatalogueEntry, type CatalogueEntry } from './catalogue/task-catalogue.js';
export {
  workerInfoSchema,
  gpuCapabilitySchema,
  gpuActivitySchema,
  GpuAdapterKind,
  type WorkerInfo,
  type GpuCapability,
  type GpuActivity,
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
