import { z } from 'zod';
import { resolveOptions } from '../options/resolve-options.js';
import type { TaskContext } from './task-context.js';

/** A task's handler: takes the validated input and returns something its output schema accepts. */
export type TaskHandler<Input, Output> = (input: Input, ctx: TaskContext) => Promise<Output> | Output;

/** What a task needs from the worker that runs it. */
export interface TaskResources {
  /** GPUs the task uses; any value above 0 routes it through the worker's GPU executor. */
  readonly gpu?: number;
}

/** What you pass to {@link defineTask}. */
export interface TaskOptions<Name extends string, Input extends z.ZodType, Output extends z.ZodType> {
  /** Unique, stable name: `[a-z0-9]` plus `.`, `_`, `-` (e.g. `billing.send-invoice`). */
  readonly name: Name;
  /** Schema of the input. The SDK's argument type is `z.input` of it; the handler gets `z.output` of it. */
  readonly input: Input;
  /** Schema of the output; the worker validates what the handler returns against it. */
  readonly output: Output;
  /** The queue jobs of this task go to unless a call says otherwise. Default `default`. */
  readonly queue?: string;
  /** What the task needs from its worker. */
  readonly resources?: TaskResources;
  /** One line for the catalogue, the API and the dashboard. */
  readonly description?: string;
  /** The code that runs the task. */
  readonly handler: TaskHandler<z.output<Input>, z.input<Output>>;
}

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
  readonly resources: TaskResources;
  readonly description?: string;
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
  queue: nameSchema.default('default'),
  resources: z.object({ gpu: z.number().positive().max(64).optional() }).strict().default({}),
  description: z.string().max(500).optional(),
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
  return resolveOptions(taskOptionsSchema, options, 'task') as unknown as TaskDefinition<Name, Input, Output>;
}
