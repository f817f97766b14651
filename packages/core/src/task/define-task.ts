import { z } from 'zod';
import { omitUndefined } from '../options/omit-undefined.js';
import { resolveOptions } from '../options/resolve-options.js';
import { durationMs, type Duration } from '../time/duration.js';
import { retryPolicySchema, type RetryPolicy, type RetryPolicyOptions } from './retry-policy.js';
import {
  concurrencyLimitSchema,
  rateLimitSchema,
  type ConcurrencyLimit,
  type ConcurrencyLimitOptions,
  type RateLimit,
  type RateLimitOptions,
} from './task-limits.js';
import type { TaskContext } from './task-context.js';
import {
  defaultGpuQueue,
  taskResourcesOptionsSchema,
  type ResolvedTaskResources,
  type TaskResources,
} from './task-resources.js';

/** A task's handler: takes the validated input and returns something its output schema accepts. */
export type TaskHandler<Input, Output> = (input: Input, ctx: TaskContext) => Promise<Output> | Output;

export type { TaskResources } from './task-resources.js';

/** What you pass to {@link defineTask}. */
export interface TaskOptions<Name extends string, Input extends z.ZodType, Output extends z.ZodType> {
  /** Unique, stable name: `[a-z0-9]` plus `.`, `_`, `-` (e.g. `billing.send-invoice`). */
  readonly name: Name;
  /** Schema of the input. The SDK's argument type is `z.input` of it; the handler gets `z.output` of it. */
  readonly input: Input;
  /** Schema of the output; the worker validates what the handler returns against it. */
  readonly output: Output;
  /**
   * The queue jobs of this task go to unless a call says otherwise. Default `default`, or for a GPU task a queue named
   * after its resources (`gpu`, `gpu.0.25`, `gpu.discrete.shader-f16`): a worker consumes no queue that holds a task
   * it cannot run, so GPU tasks get queues of their own.
   */
  readonly queue?: string;
  /** What the task needs from its worker. */
  readonly resources?: TaskResources;
  /** One line for the catalogue, the API and the dashboard. */
  readonly description?: string;
  /** How failed attempts are retried. Default: one attempt, no retry. Calls may override parts of it. */
  readonly retry?: RetryPolicyOptions;
  /**
   * Time limits of one attempt. At `soft`, `ctx.signal` aborts so the handler can clean up; at `hard`, the sandbox
   * running it is killed and the attempt fails with `CELERIAC_TIME_LIMIT_EXCEEDED` (retried per `retry`).
   */
  readonly limits?: TimeLimitOptions;
  /** A job still waiting this long after it was enqueued ends `expired` and never runs. Calls may override it. */
  readonly expires?: Duration;
  /**
   * Where the handler runs. `'sandbox'` (the default): in a worker thread, so CPU-bound work never delays lease
   * renewal and a hard time limit can stop it. `'inline'`: on the worker's own event loop, for light async tasks.
   */
  readonly isolation?: Isolation;
  /** At most this many jobs of the task at once across all workers, per key (`key: (input) => input.tenantId`). */
  readonly concurrency?: ConcurrencyLimitOptions<z.output<Input>>;
  /** At most this many job starts per period across all workers (`'100/s'`), per key if `key` is given. */
  readonly rateLimit?: RateLimitOptions<z.output<Input>>;
  /** The code that runs the task. */
  readonly handler: TaskHandler<z.output<Input>, z.input<Output>>;
}

/** Time limits of one attempt. */
export interface TimeLimitOptions {
  readonly soft?: Duration;
  readonly hard?: Duration;
}

/** Where a handler runs; see {@link TaskOptions.isolation}. */
export const Isolation = { Sandbox: 'sandbox', Inline: 'inline' } as const;
/** One of {@link Isolation}. */
export type Isolation = (typeof Isolation)[keyof typeof Isolation];

/**
 * A declared task: one object that gives the SDK its types, the worker its validation and handler, and the API its
 * JSON Schemas. Create it with {@link defineTask}.
 */
export interface TaskDefinition<
  Name extends string = string,
  Input extends z.ZodType = z.ZodType,
  Output extends z.ZodType = z.ZodType,
> {
  readonly name: Name;
  readonly input: Input;
  readonly output: Output;
  readonly queue: string;
  readonly resources: ResolvedTaskResources;
  readonly description?: string;
  readonly retry: RetryPolicy;
  readonly limits: { readonly softMs?: number; readonly hardMs?: number };
  readonly expiresMs?: number;
  readonly isolation: Isolation;
  readonly concurrency?: ConcurrencyLimit;
  readonly rateLimit?: RateLimit;
  /**
   * Declared as a method so that a specific task is assignable to `TaskDefinition` (method parameters are
   * bivariant); this is what lets a worker take a list of differently typed tasks.
   */
  handler(input: z.output<Input>, ctx: TaskContext): Promise<z.input<Output>> | z.input<Output>;
}

/** The type `enqueue` accepts for a task. */
export type TaskInput<Task extends TaskDefinition> = z.input<Task['input']>;
/** The type a task's result resolves to. */
export type TaskOutput<Task extends TaskDefinition> = z.output<Task['output']>;

/** Names of tasks and queues: they appear in Redis keys, URLs and logs, so they stay plain. */
export const nameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" and "-", starting with a letter or digit');

const taskOptionsSchema = z.object({
  name: nameSchema,
  input: z.custom<z.ZodType>((v) => v instanceof z.ZodType, 'expected a zod schema'),
  output: z.custom<z.ZodType>((v) => v instanceof z.ZodType, 'expected a zod schema'),
  queue: nameSchema.optional(),
  resources: taskResourcesOptionsSchema.default({}),
  description: z.string().max(500).optional(),
  retry: retryPolicySchema.default(retryPolicySchema.parse({})),
  limits: z
    .object({ soft: durationMs.pipe(z.number().min(1)).optional(), hard: durationMs.pipe(z.number().min(1)).optional() })
    .strict()
    .refine((l) => l.soft === undefined || l.hard === undefined || l.soft < l.hard, {
      message: 'soft must be shorter than hard',
      path: ['soft'],
    })
    .transform((l) => omitUndefined({ softMs: l.soft, hardMs: l.hard }))
    .default({}),
  expires: durationMs.pipe(z.number().min(1)).optional(),
  isolation: z.enum(Isolation).default(Isolation.Sandbox),
  concurrency: concurrencyLimitSchema.optional(),
  rateLimit: rateLimitSchema.optional(),
  handler: z.custom<TaskHandler<unknown, unknown>>((v) => typeof v === 'function', 'expected a function'),
});

/**
 * Declares a task. The returned object is what you pass to a worker (to run it) and to the client (to enqueue it
 * with full types).
 *
 * @example
 * ```ts
 * export const add = defineTask({
 *   name: 'add',
 *   input: z.object({ x: z.number(), y: z.number() }),
 *   output: z.number(),
 *   handler: ({ x, y }) => x + y,
 * });
 * ```
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` when a field is wrong, naming it (`task.name: ...`)
 */
export function defineTask<Name extends string, Input extends z.ZodType, Output extends z.ZodType>(
  options: TaskOptions<Name, Input, Output>,
): TaskDefinition<Name, Input, Output> {
  const { expires, concurrency, rateLimit, queue, ...resolved } = resolveOptions(taskOptionsSchema, options, 'task');
  return Object.freeze({
    ...resolved,
    queue: queue ?? defaultQueue(resolved.resources),
    ...(expires === undefined ? {} : { expiresMs: expires }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(rateLimit === undefined ? {} : { rateLimit }),
  }) as unknown as TaskDefinition<
    Name,
    Input,
    Output
  >;
}

/**
 * The queue of a task whose definition names none: `default`, or one per set of GPU requirements.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` when that name would be too long (many features): name a queue
 */
function defaultQueue(resources: ResolvedTaskResources): string {
  if (resources.gpu === undefined) return 'default';
  const queue = defaultGpuQueue(resources);
  // Validated like a queue the user named, so a long feature list fails here, with a fix, rather than in Redis.
  return resolveOptions(nameSchema, queue, 'task.queue (derived from task.resources; give the task a queue)');
}
