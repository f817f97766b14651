import { z } from 'zod';
import {
  CeleriacError,
  ErrorCode,
  JobSource,
  formatValidationIssues,
  nameSchema,
  omitUndefined,
  resolveOptions,
  toValidationIssues,
  parseWorkflowNode,
  type Canvas,
  type JobRecord,
  type TaskDefinition,
  type TaskInput,
  type TaskOutput,
  type WorkflowNode,
} from '@celeriac/core';
import type { Broker } from '@celeriac/broker';
import { createRedisBroker, type RedisConnectionOptions } from '@celeriac/redis';
import { resolveEnqueueOptions, type EnqueueOptions, type ResolvedEnqueueOptions } from './enqueue-options.js';
import { createJobHandle, type JobHandle } from './job-handle.js';
import { buildEnqueueRequest, unpublishedTaskDefaults, type TaskDefaults } from './build-enqueue-request.js';
import { createCatalogueCache, type CatalogueCache } from './catalogue-cache.js';
import { traceEnqueue } from './trace-enqueue.js';
import { createClientSchedules, type ClientSchedules } from './schedules.js';
import { createClientOperator, type ClientOperator } from './operator.js';
import { planWorkflow, type PlanContext } from './workflow/plan-workflow.js';
import { createWorkflowHandle, viewWorkflow, type WorkflowHandle, type WorkflowView } from './workflow/workflow-handle.js';

/** What you pass to {@link createClient}. */
export interface ClientOptions {
  /** Where Redis is. Default `redis://127.0.0.1:6379`. */
  readonly connection?: RedisConnectionOptions;
  /** Key prefix; workers and clients of one deployment share it. Default `celeriac`. */
  readonly prefix?: string;
  /** A broker to use instead of opening one; the client does not close it. */
  readonly broker?: Broker;
  /**
   * The largest binary payload (the typed arrays of one input, stored as a blob beside the job) this client may
   * enqueue; past it, enqueue fails with `CELERIAC_PAYLOAD_TOO_LARGE`. Default 64 MiB. With `broker`, set it there.
   */
  readonly maxPayloadBytes?: number;
  /** Recorded on each job as where it came from (the API passes `http`). Default `sdk`. */
  readonly source?: JobSource;
  /** A catalogue cache to share (the API validates with the same one); by default the client makes its own. */
  readonly catalogue?: CatalogueCache;
}

/** The producer SDK: enqueue tasks and follow their jobs. */
export interface Client extends ClientSchedules, ClientOperator {
  /**
   * Enqueues a typed task. The input is validated against the task's schema here, so a bad call fails at once.
   * @throws `CELERIAC_INVALID_INPUT` with field paths, `CELERIAC_INVALID_OPTIONS`, `CELERIAC_BROKER_UNAVAILABLE`
   */
  enqueue<Task extends TaskDefinition>(
    task: Task,
    input: TaskInput<Task>,
    options?: EnqueueOptions,
  ): Promise<JobHandle<TaskOutput<Task>>>;
  /**
   * Enqueues a task by name, for tasks whose code this app does not import. The worker validates the input. The
   * task's queue and policies come from the catalogue its workers published; a task no worker has published yet
   * goes to queue `default` with one attempt.
   */
  enqueueByName(task: string, input: unknown, options?: EnqueueOptions): Promise<JobHandle>;
  /**
   * Submits a workflow built with `chain`, `group`, `chord`, `map`, `starmap` and `chunks`: its first jobs are
   * created at once, and the rest as it advances. Every explicit input is validated here.
   * @throws `CELERIAC_INVALID_INPUT`, `CELERIAC_INVALID_OPTIONS` (a task without an input where nothing feeds it),
   *   `CELERIAC_BROKER_UNAVAILABLE`
   */
  workflow<Output>(canvas: Canvas<Output>): Promise<WorkflowHandle<Output>>;
  /**
   * Submits a workflow described as plain data (the JSON of `POST /v1/workflows`), with tasks named rather than
   * imported. Task defaults come from the catalogue; workers validate the inputs.
   * @throws `CELERIAC_INVALID_OPTIONS` for a malformed description
   */
  workflowByName(description: unknown): Promise<WorkflowHandle>;
  /**
   * Reads a workflow: its tree, with each job's state.
   * @throws `CELERIAC_WORKFLOW_NOT_FOUND`
   */
  getWorkflow(id: string): Promise<WorkflowView>;
  /**
   * A handle for an existing workflow.
   * @throws `CELERIAC_WORKFLOW_NOT_FOUND`
   */
  openWorkflow<Output = unknown>(id: string): Promise<WorkflowHandle<Output>>;
  /** A handle for an existing job id (no round trip). */
  job<Output = unknown>(id: string): JobHandle<Output>;
  /**
   * Reads a job's record.
   * @throws `CELERIAC_JOB_NOT_FOUND` for an unknown (or expired) id, never a guessed "pending"
   */
  getJob(id: string): Promise<JobRecord>;
  /** Closes the client's connections (not those of a broker you passed in). */
  close(): Promise<void>;
}

const clientOptionsSchema = z
  .object({
    connection: z.custom<RedisConnectionOptions>().optional(),
    prefix: z.string().optional(),
    maxPayloadBytes: z.number().int().min(1).optional(),
    broker: z.custom<Broker>((b) => typeof b === 'object' && b !== null && 'enqueue' in b, 'expected a Broker').optional(),
    source: z.enum(JobSource).default(JobSource.Sdk),
    catalogue: z.custom<CatalogueCache>((c) => typeof c === 'object' && c !== null && 'get' in c, 'expected a CatalogueCache').optional(),
  })
  .strict()
  .refine((o) => !(o.broker && (o.connection !== undefined || o.prefix !== undefined || o.maxPayloadBytes !== undefined)), {
    message: 'give either broker, or connection, prefix and maxPayloadBytes, not both',
    path: ['broker'],
  });

const noOptions: ResolvedEnqueueOptions = Object.freeze({});

/**
 * Creates a client.
 *
 * @example
 * ```ts
 * const client = createClient({ connection: process.env.REDIS_URL });
 * const job = await client.enqueue(add, { x: 2, y: 3 });
 * console.log(await job.result({ timeoutMs: 5_000 })); // 5
 * await client.close();
 * ```
 */
export function createClient(options: ClientOptions = {}): Client {
  const resolved = resolveOptions(clientOptionsSchema, options, 'client');
  const broker =
    resolved.broker ??
    createRedisBroker(
      omitUndefined({ connection: resolved.connection, prefix: resolved.prefix, maxPayloadBytes: resolved.maxPayloadBytes }),
    );

  const catalogue = resolved.catalogue ?? createCatalogueCache(broker);
  const submit = async (task: string, defaults: TaskDefaults, input: unknown, options?: EnqueueOptions) => {
    // Most calls pass no options; skipping their validation then is measurable at high enqueue rates.
    const resolvedOptions = options === undefined ? noOptions : resolveEnqueueOptions(options);
    const request = buildEnqueueRequest(task, defaults, input, resolvedOptions, resolved.source);
    const enqueued = await traceEnqueue(request, () => broker.enqueue(request));
    return createJobHandle(broker, enqueued.id, enqueued.state);
  };

  const submitWorkflow = async (node: WorkflowNode, context: PlanContext) => {
    const { flow, record, deadlines } = planWorkflow(node, context);
    // The record and the deadlines first: a workflow whose jobs run must always be readable, and never wait forever.
    await broker.saveWorkflow(record);
    await broker.addChildrenDeadlines(deadlines);
    await broker.addFlow(flow);
    return createWorkflowHandle<never>(broker, record);
  };
  const readWorkflow = async (id: string) => (await broker.getWorkflow(id)) ?? throwWorkflowNotFound(id);

  return {
    async enqueue(task, input, options) {
      checkInput(task, input, 'input');
      // The raw input is stored, not the parsed one: the worker parses again, and transforms must run once.
      return submit(task.name, task, input, options) as Promise<JobHandle<TaskOutput<typeof task>>>;
    },
    async enqueueByName(task, input, options) {
      resolveOptions(nameSchema, task, 'task.name');
      return submit(task, (await catalogue.get(task)) ?? unpublishedTaskDefaults, input, options);
    },
    async workflow(canvas) {
      const taskOf = (name: string) => canvas.tasks.get(name)!;
      return submitWorkflow(canvas.node, {
        source: resolved.source,
        defaultsOf: taskOf,
        checkInput: (name, input, path) => checkInput(taskOf(name), input, path),
      });
    },
    async workflowByName(description) {
      const node = parseWorkflowNode(description);
      const defaults = new Map<string, TaskDefaults>();
      await Promise.all(
        [...taskNames(node)].map(async (name) => defaults.set(name, (await catalogue.get(name)) ?? unpublishedTaskDefaults)),
      );
      return submitWorkflow(node, {
        source: resolved.source,
        defaultsOf: (name) => defaults.get(name)!,
        checkInput: () => {},
      });
    },
    getWorkflow: async (id) => viewWorkflow(broker, await readWorkflow(id)),
    openWorkflow: async (id) => createWorkflowHandle(broker, await readWorkflow(id)),
    job: (id) => createJobHandle(broker, id),
    getJob: (id) => createJobHandle(broker, id).record(),
    ...createClientSchedules({ broker, catalogue, checkInput }),
    ...createClientOperator({ broker, catalogue, source: resolved.source, checkInput }),
    async close() {
      if (!resolved.broker) await broker.close();
    },
  };
}

/**
 * Checks an input against its task's schema, as the worker will.
 * @throws CeleriacError `CELERIAC_INVALID_INPUT` with field paths under `path`
 */
function checkInput(task: TaskDefinition, input: unknown, path: string): void {
  const parsed = task.input.safeParse(input);
  if (parsed.success) return;
  const issues = toValidationIssues(parsed.error, path);
  throw new CeleriacError(ErrorCode.InvalidInput, `Invalid input for task "${task.name}": ${formatValidationIssues(issues)}.`, {
    details: { task: task.name, issues },
  });
}

/** Every task a workflow names. */
function taskNames(node: WorkflowNode): Set<string> {
  switch (node.kind) {
    case 'task':
    case 'map':
    case 'chunks':
      return new Set([node.task]);
    case 'chain':
      return new Set(node.steps.flatMap((step) => [...taskNames(step)]));
    case 'group':
      return new Set(node.members.flatMap((member) => [...taskNames(member)]));
    case 'chord':
      return new Set([node.callback.task, ...node.header.flatMap((member) => [...taskNames(member)])]);
  }
}

function throwWorkflowNotFound(id: string): never {
  throw new CeleriacError(
    ErrorCode.WorkflowNotFound,
    `Workflow "${id}" was not found. Check the id; workflow records are removed after their retention (7 days).`,
    { details: { id } },
  );
}
