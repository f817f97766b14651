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
  type JobRecord,
  type TaskDefinition,
  type TaskInput,
  type TaskOutput,
} from '@celeriac/core';
import type { Broker } from '@celeriac/broker';
import { createRedisBroker, type RedisConnectionOptions } from '@celeriac/redis';
import { resolveEnqueueOptions, type EnqueueOptions, type ResolvedEnqueueOptions } from './enqueue-options.js';
import { createJobHandle, type JobHandle } from './job-handle.js';
import { buildEnqueueRequest, unpublishedTaskDefaults, type TaskDefaults } from './build-enqueue-request.js';
import { createCatalogueCache, type CatalogueCache } from './catalogue-cache.js';

/** What you pass to {@link createClient}. */
export interface ClientOptions {
  /** Where Redis is. Default `redis://127.0.0.1:6379`. */
  readonly connection?: RedisConnectionOptions;
  /** Key prefix; workers and clients of one deployment share it. Default `celeriac`. */
  readonly prefix?: string;
  /** A broker to use instead of opening one; the client does not close it. */
  readonly broker?: Broker;
  /** Recorded on each job as where it came from (the API passes `http`). Default `sdk`. */
  readonly source?: JobSource;
  /** A catalogue cache to share (the API validates with the same one); by default the client makes its own. */
  readonly catalogue?: CatalogueCache;
}

/** The producer SDK: enqueue tasks and follow their jobs. */
export interface Client {
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
    broker: z.custom<Broker>((b) => typeof b === 'object' && b !== null && 'enqueue' in b, 'expected a Broker').optional(),
    source: z.enum(JobSource).default(JobSource.Sdk),
    catalogue: z.custom<CatalogueCache>((c) => typeof c === 'object' && c !== null && 'get' in c, 'expected a CatalogueCache').optional(),
  })
  .strict()
  .refine((o) => !(o.broker && (o.connection !== undefined || o.prefix !== undefined)), {
    message: 'give either broker, or connection and prefix, not both',
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
    createRedisBroker(omitUndefined({ connection: resolved.connection, prefix: resolved.prefix }));

  const catalogue = resolved.catalogue ?? createCatalogueCache(broker);
  const submit = async (task: string, defaults: TaskDefaults, input: unknown, options?: EnqueueOptions) => {
    // Most calls pass no options; skipping their validation then is measurable at high enqueue rates.
    const resolvedOptions = options === undefined ? noOptions : resolveEnqueueOptions(options);
    const request = buildEnqueueRequest(task, defaults, input, resolvedOptions, resolved.source);
    return createJobHandle(broker, (await broker.enqueue(request)).id);
  };

  return {
    async enqueue(task, input, options) {
      const parsed = task.input.safeParse(input);
      if (!parsed.success) {
        const issues = toValidationIssues(parsed.error, 'input');
        throw new CeleriacError(
          ErrorCode.InvalidInput,
          `Invalid input for task "${task.name}": ${formatValidationIssues(issues)}.`,
          { details: { task: task.name, issues } },
        );
      }
      // The raw input is stored, not the parsed one: the worker parses again, and transforms must run once.
      return submit(task.name, task, input, options) as Promise<JobHandle<TaskOutput<typeof task>>>;
    },
    async enqueueByName(task, input, options) {
      resolveOptions(nameSchema, task, 'task.name');
      return submit(task, (await catalogue.get(task)) ?? unpublishedTaskDefaults, input, options);
    },
    job: (id) => createJobHandle(broker, id),
    getJob: (id) => createJobHandle(broker, id).record(),
    async close() {
      if (!resolved.broker) await broker.close();
    },
  };
}
