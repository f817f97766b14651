import { z } from 'zod';
import { omitUndefined } from '../options/omit-undefined.js';
import { resolveOptions } from '../options/resolve-options.js';
import type { TaskDefinition, TaskInput, TaskOutput } from '../task/define-task.js';
import {
  ChildFailure,
  maxFanOut,
  maxWorkflowDepth,
  workflowDepth,
  workflowNodeSchema,
  type FanInOptions,
  type TaskNode,
  type WorkflowNode,
} from './workflow-node.js';

declare const outputType: unique symbol;

/**
 * A workflow built with the SDK: the plain {@link WorkflowNode} it describes, the tasks it uses (so the client can
 * validate inputs and apply task defaults without asking the catalogue), and, for the compiler only, the type of its
 * result. Build it with {@link sig}, {@link chain}, {@link group}, {@link chord}, {@link map}, {@link starmap} and
 * {@link chunks}; submit it with `client.workflow()`.
 */
export interface Canvas<Output = unknown> {
  readonly node: WorkflowNode;
  readonly tasks: ReadonlyMap<string, TaskDefinition>;
  /** Never set: carries the result type. */
  readonly [outputType]?: Output;
}

/** The result type of a canvas or of a task used as a step. */
export type StepOutput<Step> =
  Step extends Canvas<infer Output> ? Output : Step extends TaskDefinition ? TaskOutput<Step> : never;

/**
 * A step of a chain after the first: a task, which takes the previous step's result as its input, or a canvas
 * (whose members without an input take it).
 */
export type Step = TaskDefinition | Canvas;

/** A compile-time error shown where a task cannot take the previous step's result. */
interface InputMismatch<Previous, Task extends TaskDefinition> {
  readonly error: `task "${Task['name']}" cannot take the previous step's result as its input`;
  readonly previous: Previous;
}

/** Checks each step of a chain against the result of the step before it. */
type CheckSteps<Previous, Steps extends readonly Step[]> = Steps extends readonly [
  infer Head extends Step,
  ...infer Rest extends readonly Step[],
]
  ? [
      Head extends TaskDefinition ? ([Previous] extends [TaskInput<Head>] ? Head : InputMismatch<Previous, Head>) : Head,
      ...CheckSteps<StepOutput<Head>, Rest>,
    ]
  : [];

type LastOutput<First, Steps extends readonly Step[]> = Steps extends readonly [...Step[], infer Last]
  ? StepOutput<Last>
  : StepOutput<First>;

/** Results of a group's members, in order; with `continue`, a failed member's place holds `null`. */
type MemberOutputs<Members extends readonly (Canvas | TaskDefinition)[], Policy> = Policy extends 'continue'
  ? { -readonly [K in keyof Members]: StepOutput<Members[K]> | null }
  : Policy extends 'ignore'
    ? StepOutput<Members[number]>[]
    : { -readonly [K in keyof Members]: StepOutput<Members[K]> };

/** Options of {@link group}, {@link chord} and {@link chunks}, with the failure policy as a literal type. */
export interface FanIn<Policy extends ChildFailure> extends FanInOptions {
  readonly onChildFailure?: Policy;
}

/**
 * One task with its input: the leaf of every workflow. Without `input` (only as a member of a group or chord that is
 * a later step of a chain) it takes the previous step's result.
 *
 * @example
 * ```ts
 * const job = await client.workflow(chain(sig(add, { x: 2, y: 3 }), double));
 * ```
 */
export function sig<Task extends TaskDefinition>(task: Task, input?: TaskInput<Task>): Canvas<TaskOutput<Task>> {
  const node: TaskNode = input === undefined ? { kind: 'task', task: task.name } : { kind: 'task', task: task.name, input };
  return { node, tasks: new Map([[task.name, task]]) };
}

/**
 * Runs steps one after another. The first is a canvas (often a {@link sig}); each later task takes the result of the
 * step before it, which the compiler checks.
 *
 * @example
 * ```ts
 * chain(sig(fetchPage, { url }), parsePage, storeRows); // storeRows(parsePage(fetchPage({ url })))
 * ```
 */
export function chain<First extends Canvas, Steps extends readonly Step[]>(
  first: First,
  ...steps: Steps & CheckSteps<StepOutput<First>, Steps>
): Canvas<LastOutput<First, Steps>> {
  const parts = [first, ...(steps as readonly Step[]).map(asCanvas)];
  return build({ kind: 'chain', steps: parts.map((part) => part.node) }, parts);
}

/**
 * Runs canvases in parallel; the result is their results, in order.
 *
 * @example
 * ```ts
 * const [a, b] = await (await client.workflow(group([sig(add, { x: 1, y: 2 }), sig(add, { x: 3, y: 4 })]))).result();
 * ```
 */
export function group<const Members extends readonly (Canvas | TaskDefinition)[], Policy extends ChildFailure = 'fail'>(
  members: Members,
  options?: FanIn<Policy>,
): Canvas<MemberOutputs<Members, Policy>> {
  const parts = members.map(asCanvas);
  return build({ kind: 'group', members: parts.map((part) => part.node), ...fanIn(options) }, parts);
}

/**
 * Runs a header in parallel, then `callback` with the header's results, in order (Celery's chord). A failed header
 * member fails the callback unless `onChildFailure` says otherwise.
 *
 * @example
 * ```ts
 * chord([sig(partialSum, { from: 0 }), sig(partialSum, { from: 1_000 })], total);
 * ```
 */
export function chord<
  const Header extends readonly (Canvas | TaskDefinition)[],
  Callback extends TaskDefinition,
  Policy extends ChildFailure = 'fail',
>(
  header: Header,
  callback: Callback &
    ([MemberOutputs<Header, Policy>] extends [TaskInput<Callback>]
      ? unknown
      : InputMismatch<MemberOutputs<Header, Policy>, Callback>),
  options?: FanIn<Policy>,
): Canvas<TaskOutput<Callback>> {
  const parts = header.map(asCanvas);
  const callbackPart = sig(callback as Callback);
  return build(
    { kind: 'chord', header: parts.map((part) => part.node), callback: callbackPart.node as TaskNode, ...fanIn(options) },
    [...parts, callbackPart],
  );
}

/**
 * Runs `task` over every input, one after another, in one job (Celery's `map`); the result is the outputs in
 * order. For many inputs in parallel, use {@link chunks}.
 */
export function map<Task extends TaskDefinition>(
  task: Task,
  inputs: readonly TaskInput<Task>[],
): Canvas<TaskOutput<Task>[]> {
  return build({ kind: 'map', task: task.name, inputs: checkFanOut(inputs, 'map') }, [sig(task)]);
}

/**
 * {@link map} for a task whose input is a tuple of arguments (Celery's `starmap`, where each item is spread into
 * the task's arguments): each item of `inputs` is one such tuple.
 */
export function starmap<Task extends TaskDefinition & { input: z.ZodTuple | z.ZodArray }>(
  task: Task,
  inputs: readonly TaskInput<Task>[],
): Canvas<TaskOutput<Task>[]> {
  return map(task, inputs);
}

/**
 * Splits `inputs` into jobs of `size` inputs each, run in parallel (each one a {@link map}); the result is every
 * output, flattened, in input order.
 *
 * @example
 * ```ts
 * chunks(resizeImage, images, 100); // 10,000 images in 100 jobs
 * ```
 */
export function chunks<Task extends TaskDefinition, Policy extends ChildFailure = 'fail'>(
  task: Task,
  inputs: readonly TaskInput<Task>[],
  size: number,
  options?: FanIn<Policy>,
): Canvas<Policy extends 'continue' ? (TaskOutput<Task> | null)[] : TaskOutput<Task>[]> {
  const chunkSize = resolveOptions(z.number().int().min(1).max(maxFanOut), size, 'chunks.size');
  return build(
    { kind: 'chunks', task: task.name, inputs: checkFanOut(inputs, 'chunks'), size: chunkSize, ...fanIn(options) },
    [sig(task)],
  );
}

function asCanvas(step: Canvas | TaskDefinition): Canvas {
  return 'node' in step ? step : sig(step);
}

/** Validates the node (options, sizes, depth) and collects the tasks of `parts`. */
function build<Output>(node: WorkflowNode, parts: readonly Canvas[]): Canvas<Output> {
  const tasks = new Map<string, TaskDefinition>();
  for (const part of parts) for (const [name, task] of part.tasks) tasks.set(name, task);
  return { node: parseWorkflowNode(node), tasks };
}

/** The fan-in options as node fields; omitted ones stay absent. */
function fanIn(options: FanInOptions | undefined): FanInOptions {
  return options === undefined ? {} : omitUndefined({ ...options });
}

function checkFanOut<T>(inputs: readonly T[], builder: string): readonly T[] {
  if (inputs.length > maxFanOut) {
    resolveOptions(z.array(z.unknown()).max(maxFanOut), inputs, `${builder}.inputs`);
  }
  return inputs;
}

/**
 * Validates a workflow description: its shape, its options and its depth.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming the bad field (`workflow.steps.1.kind: ...`)
 */
export function parseWorkflowNode(json: unknown): WorkflowNode {
  return resolveOptions(checkedWorkflowNodeSchema, json, 'workflow');
}

const checkedWorkflowNodeSchema = workflowNodeSchema.refine((node) => workflowDepth(node) <= maxWorkflowDepth, {
  message: `a workflow nests at most ${maxWorkflowDepth} levels deep`,
});
