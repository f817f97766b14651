import { z } from 'zod';
import { flowParentSchema, flowSpecSchema, type FlowParent, type FlowSpec } from './flow-spec.js';
import { ChildFailure, maxFanOut } from './workflow-node.js';

/**
 * How a job's input is made from its children's results:
 * - `single`: the result of its one child (a chain step after a chord, say);
 * - `list`: the results in the order of `children` (a chord's callback, a group's result);
 * - `flat`: the same, each result being a list, concatenated (the result of `chunks`).
 */
export const GatherShape = { Single: 'single', List: 'list', Flat: 'flat' } as const;
/** One of {@link GatherShape}. */
export type GatherShape = (typeof GatherShape)[keyof typeof GatherShape];

/** What a job of a workflow carries in its envelope beside its input. */
export interface WorkflowMeta {
  /** The workflow the job belongs to. */
  readonly id: string;
  /** The job's input is made from its children's results, instead of the envelope's `input`. */
  readonly gather?: {
    readonly children: readonly string[];
    readonly shape: GatherShape;
    readonly onChildFailure: ChildFailure;
    /** With shape `flat`: how many results each child gives, so a failed child under `continue` leaves as many nulls. */
    readonly counts?: readonly number[];
  };
  /** The envelope's `input` is a list, and the task runs once for each item (map, starmap, a chunk). */
  readonly map?: true;
  /**
   * What comes next (the rest of a chain): created when this job succeeds, before it is marked done, with this
   * job's result as the input of the jobs listed in `feed`. Ids were fixed when the workflow was planned, so a job
   * that runs twice (a worker died after creating its next step) creates it once.
   */
  readonly then?: { readonly flow: FlowSpec; readonly feed: readonly string[]; readonly parent?: FlowParent };
}

/** The schema of {@link WorkflowMeta}. */
export const workflowMetaSchema: z.ZodType<WorkflowMeta, unknown> = z.object({
  id: z.string().min(1).max(256),
  gather: z
    .object({
      children: z.array(z.string()).max(maxFanOut),
      shape: z.enum(GatherShape),
      onChildFailure: z.enum(ChildFailure),
      counts: z.array(z.number().int().min(0)).max(maxFanOut).optional(),
    })
    .optional(),
  map: z.literal(true).optional(),
  then: z
    .object({ flow: flowSpecSchema, feed: z.array(z.string()).max(maxFanOut), parent: flowParentSchema.optional() })
    .optional(),
}) as z.ZodType<WorkflowMeta, unknown>;
