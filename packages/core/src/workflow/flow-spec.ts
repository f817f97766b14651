import { z } from 'zod';
import type { JobEnvelope } from '../job/job-envelope.js';
import { ChildFailure, maxFanOut } from './workflow-node.js';

/** One job of a flow, with the id it was given when the workflow was planned. */
export interface FlowJob {
  readonly id: string;
  readonly queue: string;
  readonly task: string;
  readonly envelope: JobEnvelope;
  /** Total attempts, the first included. */
  readonly attempts?: number;
}

/**
 * A job and the jobs it waits for: a tree that a broker creates at once (BullMQ's flows), where a parent runs only
 * after its children finished. Workflows are made of these.
 */
export interface FlowSpec {
  readonly job: FlowJob;
  readonly children?: readonly FlowChild[];
}

/** A child of a flow, and what its failure does to its parent. */
export interface FlowChild {
  readonly flow: FlowSpec;
  readonly onFailure: ChildFailure;
}

/** An existing job that a new flow's root becomes a child of. */
export interface FlowParent {
  readonly id: string;
  readonly queue: string;
  readonly onFailure: ChildFailure;
}

const idSchema = z.string().min(1).max(256);

/** The schema of a {@link FlowParent}. */
export const flowParentSchema = z.object({ id: idSchema, queue: idSchema, onFailure: z.enum(ChildFailure) });

/**
 * The schema of a {@link FlowSpec} read back from Redis. Envelopes are only checked to be objects here: each is
 * decoded and validated in full when its own job runs.
 */
export const flowSpecSchema: z.ZodType<FlowSpec, unknown> = z.lazy(() =>
  z.object({
    job: z.object({
      id: idSchema,
      queue: idSchema,
      task: idSchema,
      envelope: z.custom<JobEnvelope>((value) => typeof value === 'object' && value !== null, 'expected an envelope'),
      attempts: z.number().int().min(1).optional(),
    }),
    children: z
      .array(z.object({ flow: flowSpecSchema, onFailure: z.enum(ChildFailure) }))
      .max(maxFanOut)
      .optional(),
  }),
) as z.ZodType<FlowSpec, unknown>;

/** Every job of a flow, the root first. */
export function flowJobs(flow: FlowSpec): FlowJob[] {
  return [flow.job, ...(flow.children ?? []).flatMap((child) => flowJobs(child.flow))];
}

/**
 * A copy of `flow` where the jobs listed in `ids` take `input` (the result of the step before them in a chain). Their
 * envelopes are copied, never changed in place.
 */
export function withInput(flow: FlowSpec, ids: ReadonlySet<string>, input: unknown): FlowSpec {
  const { job } = flow;
  return {
    job: ids.has(job.id) ? { ...job, envelope: { ...job.envelope, input } } : job,
    ...(flow.children && {
      children: flow.children.map((child) => ({ ...child, flow: withInput(child.flow, ids, input) })),
    }),
  };
}
