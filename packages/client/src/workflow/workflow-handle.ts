import {
  CeleriacError,
  ErrorCode,
  JobState,
  workflowState,
  type WorkflowRecord,
  type WorkflowTree,
  type WorkflowTreeState,
} from '@celeriac/core';
import type { Broker } from '@celeriac/broker';
import { outputOf, type ResultOptions } from '../job-handle.js';

/** A workflow with the state of each of its jobs. */
export interface WorkflowView {
  readonly id: string;
  readonly createdAt: string;
  /** `succeeded` once the last step did; otherwise the state of the first step that has not succeeded. */
  readonly state: JobState | 'pending';
  readonly tree: WorkflowTreeState;
}

/** A reference to one workflow, typed by its result. */
export interface WorkflowHandle<Output = unknown> {
  readonly id: string;
  /**
   * Waits for the workflow to finish and returns its result: the last step's output.
   * @throws `CELERIAC_JOB_FAILED` naming the job that failed (its error is the `cause`; a job that failed because one
   *   it waited for failed has `CELERIAC_CHILD_FAILED`, with that job's error in `details.error`),
   *   `CELERIAC_JOB_CANCELLED`, `CELERIAC_JOB_EXPIRED`, `CELERIAC_RESULT_TIMEOUT`
   */
  result(options?: ResultOptions): Promise<Output>;
  /** The workflow's tree, with each job's state. */
  view(): Promise<WorkflowView>;
}

/** Creates a handle for a stored workflow. */
export function createWorkflowHandle<Output>(broker: Broker, record: WorkflowRecord): WorkflowHandle<Output> {
  return {
    id: record.id,
    async result({ timeoutMs = 60_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      let output: unknown;
      // Each stage is created before the one before it is marked done, so it exists by the time that one succeeded.
      for (const stage of record.stages) {
        const outcome = await broker.waitForJob(stage, Math.max(1, deadline - Date.now()));
        if (outcome === undefined) throw stageNotFound(record.id, stage);
        output = outputOf(outcome);
      }
      return output as Output;
    },
    view: () => viewWorkflow(broker, record),
  };
}

/**
 * Reads the state of every job of a workflow, in one listing of just those jobs: their inputs and results, which can
 * be large, are not read (a dashboard refreshes this view as the jobs move).
 */
export async function viewWorkflow(broker: Broker, record: WorkflowRecord): Promise<WorkflowView> {
  const ids = jobIds(record.tree);
  const { jobs } = await broker.listJobs({ ids, limit: ids.length });
  const states = new Map<string, JobState>(jobs.map((job) => [job.id, job.state]));
  const withStates = ({ children, ...node }: WorkflowTree): WorkflowTreeState => ({
    ...node,
    state: states.get(node.jobId) ?? 'pending',
    ...(children && { children: children.map(withStates) }),
  });
  return {
    id: record.id,
    createdAt: record.createdAt,
    state: workflowState(record.stages.map((stage) => states.get(stage) ?? 'pending')),
    tree: withStates(record.tree),
  };
}

function jobIds(tree: WorkflowTree): string[] {
  return [...new Set([tree.jobId, ...(tree.children ?? []).flatMap(jobIds)])];
}

function stageNotFound(workflowId: string, jobId: string): CeleriacError {
  return new CeleriacError(
    ErrorCode.JobNotFound,
    `Job "${jobId}" of workflow "${workflowId}" was not found: its retention ran out, or it was removed.`,
    { details: { workflowId, jobId } },
  );
}
