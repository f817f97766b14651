import { z } from 'zod';
import { durationMs, type Duration } from '../time/duration.js';
import { nameSchema } from '../task/define-task.js';

/**
 * What a failed child does to the node waiting for it (a chord's callback, a group's result), once the child has
 * failed for good:
 * - `fail` (the default): the waiting node fails too, with `CELERIAC_CHILD_FAILED` naming the child and carrying
 *   its error, and so does everything that waits on it;
 * - `continue`: the waiting node runs once every child is done; a failed child's place in the results is `null`;
 * - `ignore`: the waiting node runs once every child is done, with the failed children left out of the results.
 */
export const ChildFailure = { Fail: 'fail', Continue: 'continue', Ignore: 'ignore' } as const;
/** One of {@link ChildFailure}. */
export type ChildFailure = (typeof ChildFailure)[keyof typeof ChildFailure];

/** How a group, chord or chunks node waits for its children. */
export interface FanInOptions {
  /** What a failed child does; see {@link ChildFailure}. Default `fail`. */
  readonly onChildFailure?: ChildFailure;
  /**
   * How long after the workflow is submitted the children may take, all together. Past it, the waiting node fails
   * with `CELERIAC_CHILDREN_DEADLINE`, its unfinished children are cancelled, and nothing waits forever.
   */
  readonly childrenDeadline?: Duration;
}

/** A task to run; without `input` it takes the result of what comes before it in a chain. */
export interface TaskNode {
  readonly kind: 'task';
  readonly task: string;
  readonly input?: unknown;
}

/** Runs its steps one after another, each taking the previous step's result. */
export interface ChainNode {
  readonly kind: 'chain';
  readonly steps: readonly WorkflowNode[];
}

/** Runs its members in parallel; its result is theirs, in order. */
export interface GroupNode {
  readonly kind: 'group';
  readonly members: readonly WorkflowNode[];
  readonly onChildFailure?: ChildFailure;
  readonly childrenDeadline?: Duration;
}

/** Runs its header in parallel, then the callback with the header's results, in order. */
export interface ChordNode {
  readonly kind: 'chord';
  readonly header: readonly WorkflowNode[];
  readonly callback: TaskNode;
  readonly onChildFailure?: ChildFailure;
  readonly childrenDeadline?: Duration;
}

/** Runs one task over every input, one after another, in a single job; its result is the list of outputs. */
export interface MapNode {
  readonly kind: 'map';
  readonly task: string;
  readonly inputs: readonly unknown[];
}

/** Splits `inputs` into jobs of `size` inputs each, run in parallel; its result is every output, in input order. */
export interface ChunksNode {
  readonly kind: 'chunks';
  readonly task: string;
  readonly inputs: readonly unknown[];
  readonly size: number;
  readonly onChildFailure?: ChildFailure;
  readonly childrenDeadline?: Duration;
}

/**
 * A workflow (Celery's canvas) as plain data: what the SDK's builders produce and what `POST /v1/workflows` takes.
 * A node's `kind` says how it runs; see each node type.
 */
export type WorkflowNode = TaskNode | ChainNode | GroupNode | ChordNode | MapNode | ChunksNode;

/** Most members of one group or chord, and most inputs of one map or chunks node. */
export const maxFanOut = 10_000;
/** Deepest nesting of nodes: deep enough for any real canvas, shallow enough that a hostile one cannot recurse far. */
export const maxWorkflowDepth = 16;

const fanIn = {
  onChildFailure: z.enum(ChildFailure).optional(),
  // Checked here, kept as written: the node is stored and shown the way the user wrote it.
  childrenDeadline: z
    .union([z.number(), z.string()])
    .refine((value) => durationMs.pipe(z.number().min(1)).safeParse(value).success, {
      message: 'expected a duration of at least 1 ms, such as 500, "30s" or "5m"',
    })
    .optional(),
};

const taskNodeSchema = z.object({ kind: z.literal('task'), task: nameSchema, input: z.unknown().optional() }).strict();

/**
 * The schema of a {@link WorkflowNode} as JSON. Used to validate
 * what arrives over HTTP and what the builders are given; {@link parseWorkflowNode} adds the depth check.
 */
export const workflowNodeSchema: z.ZodType<WorkflowNode, unknown> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    taskNodeSchema,
    z.object({ kind: z.literal('chain'), steps: z.array(workflowNodeSchema).min(1).max(maxFanOut) }).strict(),
    z
      .object({ kind: z.literal('group'), members: z.array(workflowNodeSchema).min(1).max(maxFanOut), ...fanIn })
      .strict(),
    z
      .object({
        kind: z.literal('chord'),
        header: z.array(workflowNodeSchema).min(1).max(maxFanOut),
        callback: taskNodeSchema,
        ...fanIn,
      })
      .strict(),
    z.object({ kind: z.literal('map'), task: nameSchema, inputs: z.array(z.unknown()).max(maxFanOut) }).strict(),
    z
      .object({
        kind: z.literal('chunks'),
        task: nameSchema,
        inputs: z.array(z.unknown()).min(1).max(maxFanOut),
        size: z.number().int().min(1).max(maxFanOut),
        ...fanIn,
      })
      .strict(),
  ]),
) as z.ZodType<WorkflowNode, unknown>;

/** How deep `node` nests. */
export function workflowDepth(node: WorkflowNode): number {
  switch (node.kind) {
    case 'chain':
      return 1 + Math.max(...node.steps.map(workflowDepth));
    case 'group':
      return 1 + Math.max(...node.members.map(workflowDepth));
    case 'chord':
      return 1 + Math.max(...node.header.map(workflowDepth));
    default:
      return 1;
  }
}
