import type { FlowParent, FlowSpec, WorkflowRecord } from '@celeriac/core';

/** The results of a job's children, by child job id, as a job that waits for them reads them. */
export interface ChildResults {
  /** Results of the children that succeeded. */
  readonly values: ReadonlyMap<string, unknown>;
  /** Children that failed for good and were let through (`onChildFailure: 'continue'`), with their failure. */
  readonly failed: ReadonlySet<string>;
}

/** A job of a workflow that waits for its children: still waiting at `atMs`, it fails with `CELERIAC_CHILDREN_DEADLINE`. */
export interface ChildrenDeadline {
  readonly jobId: string;
  readonly queue: string;
  readonly atMs: number;
}

/** What workflows need from a broker: flows of jobs that wait for each other, and a record of each workflow. */
export interface WorkflowStore {
  /**
   * Creates every job of `flow` at once; a job runs only after its children finished. With `parent`, the root
   * becomes one more child of that existing job, which must still be waiting for its children. A root whose id
   * exists already is left as it is, so creating the same flow twice creates it once.
   */
  addFlow(flow: FlowSpec, parent?: FlowParent): Promise<void>;
  /** Stores a workflow's record, kept as long as failed jobs are. */
  saveWorkflow(record: WorkflowRecord): Promise<void>;
  /** Reads a workflow's record; `undefined` when there is none (a wrong id, or its retention ran out). */
  getWorkflow(id: string): Promise<WorkflowRecord | undefined>;
  /** Registers children deadlines, enforced by {@link enforceChildrenDeadlines}. */
  addChildrenDeadlines(deadlines: readonly ChildrenDeadline[]): Promise<void>;
  /**
   * Fails the jobs still waiting for their children past their deadline, and removes those children that have not
   * started. Workers call it every second; any number may, and each deadline is enforced once. Returns how many jobs
   * it failed.
   */
  enforceChildrenDeadlines(): Promise<number>;
}
