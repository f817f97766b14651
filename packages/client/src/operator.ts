import { z } from 'zod';
import {
  CeleriacError,
  ControlCommand,
  ErrorCode,
  JobState,
  durationMs,
  nameSchema,
  resolveOptions,
  type ControlReport,
  type ControlRequest,
  type Duration,
  type JobSource,
  type TaskDefinition,
  type TaskInput,
  type TaskOutput,
  type WorkerInfo,
} from '@celeriac/core';
import type { Broker, JobPage, QueueSummary } from '@celeriac/broker';
import { buildEnqueueRequest, unpublishedTaskDefaults, type TaskDefaults } from './build-enqueue-request.js';
import type { CatalogueCache } from './catalogue-cache.js';
import { resolveEnqueueOptions, type EnqueueOptions } from './enqueue-options.js';
import { createJobHandle, type JobHandle } from './job-handle.js';

/** One job of a bulk submission. */
export interface BulkItem<Input = unknown> {
  readonly input: Input;
  readonly options?: EnqueueOptions;
}

/** One job of a bulk submission by task name. */
export interface NamedBulkItem extends BulkItem {
  readonly task: string;
}

/** A job a bulk submission created (or found, for an id that already existed), with its state then. */
export interface BulkEnqueued<Output = unknown> {
  readonly id: string;
  readonly state: JobState;
  readonly handle: JobHandle<Output>;
}

/** Filters and paging of {@link ClientOperator.listJobs}. */
export interface ListJobsOptions {
  /** Only jobs in these states. Default: all. */
  readonly state?: JobState | readonly JobState[];
  /** Only jobs on these queues. Default: all. */
  readonly queue?: string | readonly string[];
  /** Only jobs of these tasks. */
  readonly task?: string | readonly string[];
  /** Only jobs created at or after this time. */
  readonly createdAfter?: Date;
  /** Only jobs created before this time. */
  readonly createdBefore?: Date;
  /** Jobs per page, 1 to 1,000. Default 50. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** A live worker, with how old its last heartbeat is. */
export type WorkerView = WorkerInfo & { readonly heartbeatAgeMs: number };

/** Whom a control command addresses, and how long to wait for replies. */
export interface ControlOptions {
  /** Worker ids. Default: every live worker. */
  readonly workers?: readonly string[];
  /** How long to wait for replies (`'2s'`, or milliseconds), up to 30 s. Default 1 s. */
  readonly timeout?: Duration;
}

/** The operator's side of the SDK: bulk submission, listings, retries, queue administration and remote control. */
export interface ClientOperator {
  /**
   * Enqueues many jobs of one task, all or none: every input is validated first, then the jobs are written in one
   * transaction. The answer follows the order of `items`.
   * @throws `CELERIAC_INVALID_INPUT` (the path names the item: `items.3.input.x`), `CELERIAC_INVALID_OPTIONS`
   */
  enqueueBulk<Task extends TaskDefinition>(
    task: Task,
    items: readonly BulkItem<TaskInput<Task>>[],
  ): Promise<BulkEnqueued<TaskOutput<Task>>[]>;
  /**
   * Enqueues many jobs of any tasks by name, all or none; task defaults come from the catalogue (the caller, such as
   * the API, validates the inputs against the published schemas).
   */
  enqueueBulkByName(items: readonly NamedBulkItem[]): Promise<BulkEnqueued[]>;
  /** Lists jobs, newest first, one page at a time. @throws `CELERIAC_INVALID_REQUEST` for a cursor not issued here */
  listJobs(options?: ListJobsOptions): Promise<JobPage>;
  /**
   * Runs a failed or cancelled job again under its id: one more attempt, numbered after those in its history (which
   * is kept). A job cancelled before it ran is created again from its cancellation record.
   * @throws `CELERIAC_JOB_NOT_FOUND`, `CELERIAC_JOB_NOT_RETRYABLE` (it is not failed or cancelled)
   */
  retryJob(id: string): Promise<{ readonly id: string; readonly previousState: JobState }>;
  /** Every known queue with its counts by state, sorted by name. */
  listQueues(): Promise<QueueSummary[]>;
  /** Pauses a queue for every worker (its jobs wait). @throws `CELERIAC_QUEUE_NOT_FOUND` */
  pauseQueue(name: string): Promise<QueueSummary>;
  /** Resumes a paused queue. @throws `CELERIAC_QUEUE_NOT_FOUND` */
  resumeQueue(name: string): Promise<QueueSummary>;
  /**
   * Removes a queue's waiting jobs, and its delayed ones unless `delayed: false`; running and finished jobs stay.
   * @throws `CELERIAC_QUEUE_NOT_FOUND`
   */
  drainQueue(name: string, options?: { readonly delayed?: boolean }): Promise<{ readonly removed: number }>;
  /** The live workers, by id. */
  listWorkers(): Promise<WorkerView[]>;
  /** Sends a remote-control command and collects the replies. @throws `CELERIAC_INVALID_OPTIONS` */
  control(request: ControlRequest, options?: ControlOptions): Promise<ControlReport>;
  /** `control({ command: 'ping' })`: which workers answer within the timeout. */
  ping(options?: ControlOptions): Promise<ControlReport>;
}

/** What {@link createClientOperator} needs from the client. */
export interface ClientOperatorContext {
  readonly broker: Broker;
  readonly catalogue: CatalogueCache;
  readonly source: JobSource;
  /** Validates an input against its task's schema, as `enqueue` does. */
  readonly checkInput: (task: TaskDefinition, input: unknown, path: string) => void;
}

const listOf = <T extends z.ZodType>(item: T) => z.union([item, z.array(item)]).optional();
const listJobsOptionsSchema = z
  .object({
    state: listOf(z.enum(JobState)),
    queue: listOf(nameSchema),
    task: listOf(nameSchema),
    createdAfter: z.date().optional(),
    createdBefore: z.date().optional(),
    limit: z.number().int().min(1).max(1_000).default(50),
    cursor: z.string().min(1).max(1_000).optional(),
  })
  .strict();

const controlOptionsSchema = z
  .object({
    workers: z.array(z.string().min(1)).min(1).optional(),
    timeout: durationMs.pipe(z.number().min(1).max(30_000)).default(1_000),
  })
  .strict();

const asList = <T>(value: T | readonly T[] | undefined): readonly T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? (value as readonly T[]) : [value as T];

/** The operator methods of a client. */
export function createClientOperator(context: ClientOperatorContext): ClientOperator {
  const { broker, catalogue } = context;
  // All items are checked before anything is written, so one bad item rejects the batch.
  const submit = async (items: readonly { task: string; defaults: TaskDefaults; input: unknown; options?: EnqueueOptions }[]) => {
    const requests = items.map(({ task, defaults, input, options }, index) =>
      buildEnqueueRequest(task, defaults, input, resolveItemOptions(options, index), context.source),
    );
    const records = await broker.enqueueBulk(requests);
    return records.map(({ id, state }) => ({ id, state, handle: createJobHandle(broker, id, state) }));
  };
  const control = (request: ControlRequest, options: ControlOptions = {}) => {
    const { workers, timeout } = resolveOptions(controlOptionsSchema, options, 'control');
    return broker.sendControl(request, { timeoutMs: timeout, ...(workers ? { workers } : {}) });
  };
  return {
    async enqueueBulk(task, items) {
      items.forEach((item, index) => context.checkInput(task, item.input, `items.${index}.input`));
      return submit(items.map((item) => ({ ...item, task: task.name, defaults: task }))) as never;
    },
    async enqueueBulkByName(items) {
      const names = [...new Set(items.map((item) => item.task))];
      names.forEach((name) => resolveOptions(nameSchema, name, 'task.name'));
      const defaults = new Map(
        await Promise.all(names.map(async (name) => [name, (await catalogue.get(name)) ?? unpublishedTaskDefaults] as const)),
      );
      return submit(items.map((item) => ({ ...item, defaults: defaults.get(item.task)! })));
    },
    async listJobs(options = {}) {
      const o = resolveOptions(listJobsOptionsSchema, options, 'listJobs');
      const states = asList(o.state);
      const queues = asList(o.queue);
      const tasks = asList(o.task);
      return broker.listJobs({
        limit: o.limit,
        ...(states ? { states } : {}),
        ...(queues ? { queues } : {}),
        ...(tasks ? { tasks } : {}),
        ...(o.createdAfter ? { createdAfterMs: o.createdAfter.getTime() } : {}),
        ...(o.createdBefore ? { createdBeforeMs: o.createdBefore.getTime() } : {}),
        ...(o.cursor === undefined ? {} : { cursor: o.cursor }),
      });
    },
    async retryJob(id) {
      const retried = await broker.retryJob(id);
      if (retried.outcome === 'retried') return { id, previousState: retried.previousState };
      if (retried.outcome === 'not-found') {
        throw new CeleriacError(ErrorCode.JobNotFound, `Job "${id}" was not found, so it cannot be retried. Check the id; finished jobs are removed after their retention.`, { details: { id } });
      }
      throw new CeleriacError(
        ErrorCode.JobNotRetryable,
        `Job "${id}" is ${retried.state}, so it cannot be retried: only failed and cancelled jobs can. ` +
          (retried.state === JobState.Expired ? 'An expired job would expire again at once; enqueue a new one.' : 'Wait for it to finish, or enqueue a new job.'),
        { details: { id, state: retried.state } },
      );
    },
    listQueues: () => broker.listQueues(),
    pauseQueue: (name) => broker.setQueuePaused(name, true),
    resumeQueue: (name) => broker.setQueuePaused(name, false),
    drainQueue: (name, options = {}) => broker.drainQueue(name, { delayed: options.delayed ?? true }),
    async listWorkers() {
      const now = Date.now();
      const workers = await broker.listWorkers();
      return workers
        .map((worker) => ({ ...worker, heartbeatAgeMs: Math.max(0, now - worker.heartbeatAtMs) }))
        .sort((a, b) => a.id.localeCompare(b.id));
    },
    control,
    ping: (options) => control({ command: ControlCommand.Ping }, options),
  };
}

/** An item's enqueue options, with errors naming the item (`items.3.options.delay`). */
function resolveItemOptions(options: EnqueueOptions | undefined, index: number) {
  if (options === undefined) return {};
  try {
    return resolveEnqueueOptions(options);
  } catch (error) {
    if (!(error instanceof CeleriacError) || error.code !== ErrorCode.InvalidOptions) throw error;
    throw new CeleriacError(ErrorCode.InvalidOptions, error.message.replaceAll('enqueue.', `items.${index}.options.`), {
      details: { ...error.details, item: index },
      cause: error,
    });
  }
}
