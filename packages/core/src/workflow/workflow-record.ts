import { z } from 'zod';
import { JobState } from '../job/job-state.js';
import type { WorkflowNode } from './workflow-node.js';

/**
 * The shape of a workflow as planned: its nodes, each with the job that stands for it (a task's job, the callback
 * of a chord, the job that gathers a group's results), and their children. Stored when the workflow is submitted;
 * read back with each job's state for `GET /v1/workflows/:id`.
 */
export interface WorkflowTree {
  readonly kind: WorkflowNode['kind'];
  /** The task, for task, map and chunks nodes, and a chord's callback. */
  readonly task?: string;
  /** The job whose end is this node's end. */
  readonly jobId: string;
  readonly children?: readonly WorkflowTree[];
}

/** A workflow as stored: what `client.workflow()` and `POST /v1/workflows` create. */
export interface WorkflowRecord {
  readonly id: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /**
   * The jobs that end each step of the top-level chain, in order (one for a workflow that is not a chain). Each is
   * created before the one before it is marked done, so a waiter can follow them; the last one's result is the
   * workflow's.
   */
  readonly stages: readonly string[];
  readonly tree: WorkflowTree;
}

/** A {@link WorkflowTree} with each node's job state; `pending` for a job not created yet (a later chain step). */
export interface WorkflowTreeState extends Omit<WorkflowTree, 'children'> {
  readonly state: JobState | 'pending';
  readonly children?: readonly WorkflowTreeState[];
}

const treeSchema: z.ZodType<WorkflowTree> = z.lazy(() =>
  z.object({
    kind: z.enum(['task', 'chain', 'group', 'chord', 'map', 'chunks']),
    task: z.string().optional(),
    jobId: z.string().min(1),
    children: z.array(treeSchema).optional(),
  }),
) as z.ZodType<WorkflowTree>;

/** The schema of a {@link WorkflowRecord} read back from Redis. */
export const workflowRecordSchema: z.ZodType<WorkflowRecord> = z.object({
  id: z.string().min(1),
  createdAt: z.string(),
  stages: z.array(z.string().min(1)).min(1),
  tree: treeSchema,
}) as z.ZodType<WorkflowRecord>;

/**
 * The state of a whole workflow from the states of its stages: the first stage that did not succeed decides
 * (`failed`, `cancelled`, `expired`, or still running), and a workflow whose last stage succeeded succeeded.
 */
export function workflowState(stageStates: readonly (JobState | 'pending')[]): JobState | 'pending' {
  for (const state of stageStates) if (state !== JobState.Succeeded) return state;
  return JobState.Succeeded;
}
