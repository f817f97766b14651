import { randomUUID } from 'node:crypto';
import {
  CeleriacError,
  ChildFailure,
  ErrorCode,
  GatherShape,
  durationMs,
  type FanInOptions,
  type FlowJob,
  type FlowParent,
  type FlowSpec,
  type JobSource,
  type WorkflowMeta,
  type WorkflowNode,
  type WorkflowRecord,
  type WorkflowTree,
} from '@celeriac/core';
import type { ChildrenDeadline } from '@celeriac/broker';
import { buildEnqueueRequest, unpublishedTaskDefaults, type TaskDefaults } from '../build-enqueue-request.js';

/** The job that gathers a group's results; every worker knows it (see the worker's `gatherTask`). */
const gatherTaskName = 'celeriac.gather';
/** Its defaults: it cannot fail but by a child, so one attempt; its queue is the group's. */
const gatherDefaults: TaskDefaults = { ...unpublishedTaskDefaults, retry: { ...unpublishedTaskDefaults.retry, attempts: 1 } };

/** What planning needs to know about the tasks a workflow uses. */
export interface PlanContext {
  readonly source: JobSource;
  /** The defaults of a task (its queue, retry policy, limits and expiry). */
  defaultsOf(task: string): TaskDefaults;
  /**
   * Checks an explicit input against the task's schema.
   * @throws CeleriacError `CELERIAC_INVALID_INPUT`
   */
  checkInput(task: string, input: unknown, path: string): void;
}

/** A workflow ready to create: its first jobs, and its record. */
export interface WorkflowPlan {
  /** The jobs to create now; later steps of chains travel inside them and are created as the chain advances. */
  readonly flow: FlowSpec;
  readonly record: WorkflowRecord;
  /** The children deadlines of its groups, chords and chunks, counted from now. */
  readonly deadlines: readonly ChildrenDeadline[];
}

/**
 * Plans a workflow: gives every job an id up front, so a step that is created twice (its predecessor ran twice) is
 * created once, and so the record can name each job before it exists.
 *
 * - A task, or a map (one job over a list of inputs), is one job.
 * - A group is a job that gathers its members' results, with the members as its children; a chord is the same with
 *   the callback in place of the gathering job; chunks is a group of maps.
 * - A chain is its first step; that step's last job carries the rest of the chain and creates it when it succeeds,
 *   with its result as the input of the next step's jobs that have none. Inside a group, every step of a chain
 *   becomes a child of the group's gathering job, so the group waits for the whole chain.
 *
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` for a task without an input where nothing feeds it, or a chord
 *   callback with an input; `CELERIAC_INVALID_INPUT` for an input its task rejects
 */
export function planWorkflow(node: WorkflowNode, context: PlanContext): WorkflowPlan {
  const id = randomUUID();
  const planner = new Planner(id, context);
  const fragment = planner.plan(node, { fed: false, path: 'workflow' });
  return {
    flow: fragment.flow,
    record: { id, createdAt: new Date().toISOString(), stages: fragment.stages, tree: fragment.tree },
    deadlines: planner.deadlines,
  };
}

/** A planned part of a workflow. */
interface Fragment {
  /** Its jobs to create when it starts; the root is the job whose end is the fragment's end (for a chain, the first step's). */
  readonly flow: FlowSpec;
  /** Its jobs without an input of their own, which take what comes before it in a chain. */
  readonly feed: readonly string[];
  /** The job whose result is the fragment's result (for a chain, its last step's). */
  readonly result: string;
  /** The jobs that end each step, in order (more than one only for a chain). */
  readonly stages: readonly string[];
  readonly tree: WorkflowTree;
}

interface Position {
  /** Whether something before this node in a chain hands it its result. */
  readonly fed: boolean;
  /** Where the node is, for error messages (`workflow.steps.1`). */
  readonly path: string;
  /** The job a chain inside a group must keep adding its steps to. */
  readonly parent?: FlowParent;
}

class Planner {
  readonly deadlines: ChildrenDeadline[] = [];
  private readonly startedAtMs = Date.now();

  constructor(
    private readonly workflowId: string,
    private readonly context: PlanContext,
  ) {}

  plan(node: WorkflowNode, at: Position): Fragment {
    switch (node.kind) {
      case 'task':
        return this.single(this.task(node.task, node.input, at), 'task');
      case 'map':
        node.inputs.forEach((input, index) => this.context.checkInput(node.task, input, `${at.path}.inputs.${index}`));
        return this.single(this.job(node.task, node.inputs, { map: true }), 'map');
      case 'chain':
        return this.chain(flattenChain(node.steps), at);
      case 'group':
        return this.fanIn(node.members, this.queueOf(node), gatherTaskName, GatherShape.List, node, at);
      case 'chord':
        if (node.callback.input !== undefined) {
          throw invalid(`${at.path}.callback`, `a chord's callback takes the header's results as its input; remove its input`);
        }
        return this.fanIn(node.header, this.context.defaultsOf(node.callback.task).queue, node.callback.task, GatherShape.List, node, at);
      case 'chunks': {
        const slices = sliceInputs(node.inputs, node.size);
        const members: WorkflowNode[] = slices.map((inputs) => ({ kind: 'map', task: node.task, inputs }));
        const counts = slices.map((slice) => slice.length);
        return this.fanIn(members, this.context.defaultsOf(node.task).queue, gatherTaskName, GatherShape.Flat, node, at, counts);
      }
    }
  }

  /** A task's job; without an input it must be fed. */
  private task(task: string, input: unknown, at: Position): FlowJob & { readonly fed: boolean } {
    if (input === undefined) {
      if (!at.fed) {
        throw invalid(at.path, `task "${task}" has no input, and no step before it in a chain hands it a result; give it one`);
      }
      return { ...this.job(task, null, {}), fed: true };
    }
    this.context.checkInput(task, input, `${at.path}.input`);
    return { ...this.job(task, input, {}), fed: false };
  }

  private single(job: FlowJob & { readonly fed?: boolean }, kind: 'task' | 'map'): Fragment {
    const { fed, ...flowJob } = job;
    return {
      flow: { job: flowJob },
      feed: fed === true ? [job.id] : [],
      result: job.id,
      stages: [job.id],
      tree: { kind, task: job.task, jobId: job.id },
    };
  }

  /** A group, chord or chunks: `collector` waits for the members and gets their results, shaped as `shape` says. */
  private fanIn(
    members: readonly WorkflowNode[],
    queue: string,
    collector: string,
    shape: GatherShape,
    node: { readonly kind: 'group' | 'chord' | 'chunks' } & FanInOptions,
    at: Position,
    counts?: readonly number[],
  ): Fragment {
    const id = randomUUID();
    const onChildFailure = node.onChildFailure ?? ChildFailure.Fail;
    const parent: FlowParent = { id, queue, onFailure: onChildFailure };
    const memberPath = node.kind === 'chord' ? 'header' : 'members';
    const parts = members.map((member, index) =>
      this.plan(member, { fed: at.fed, path: `${at.path}.${memberPath}.${index}`, parent }),
    );
    const gather: NonNullable<WorkflowMeta['gather']> = {
      children: parts.map((part) => part.result),
      shape,
      onChildFailure,
      ...(counts && { counts }),
    };
    const job = { ...this.job(collector, null, { gather }, queue), id };
    if (node.childrenDeadline !== undefined) {
      this.deadlines.push({ jobId: id, queue, atMs: this.startedAtMs + durationMs.parse(node.childrenDeadline) });
    }
    return {
      flow: { job, children: parts.map((part) => ({ flow: part.flow, onFailure: onChildFailure })) },
      feed: parts.flatMap((part) => part.feed),
      result: id,
      stages: [id],
      tree: {
        kind: node.kind,
        ...(collector === gatherTaskName ? {} : { task: collector }),
        jobId: id,
        children: parts.map((part) => part.tree),
      },
    };
  }

  /** The first step now; each step's last job carries the rest and creates it on success. */
  private chain(steps: readonly WorkflowNode[], at: Position): Fragment {
    const parts: Fragment[] = [];
    steps.forEach((step, index) => {
      parts.push(this.plan(step, { ...at, fed: index > 0 || at.fed, path: `${at.path}.steps.${index}` }));
    });
    // Built from the last step back: each step's root job carries the (already linked) rest of the chain.
    let rest = parts[parts.length - 1]!;
    let flow = rest.flow;
    for (let index = parts.length - 2; index >= 0; index--) {
      const step = parts[index]!;
      const then = { flow, feed: rest.feed, ...(at.parent && { parent: at.parent }) };
      flow = { ...step.flow, job: withWorkflowMeta(step.flow.job, { then }) };
      rest = step;
    }
    return {
      flow,
      feed: parts[0]!.feed,
      result: parts[parts.length - 1]!.result,
      stages: parts.flatMap((part) => part.stages),
      tree: { kind: 'chain', jobId: parts[parts.length - 1]!.result, children: parts.map((part) => part.tree) },
    };
  }

  private job(task: string, input: unknown, workflow: Omit<WorkflowMeta, 'id'>, queue?: string): FlowJob {
    const defaults = task === gatherTaskName ? gatherDefaults : this.context.defaultsOf(task);
    const request = buildEnqueueRequest(task, queue ? { ...defaults, queue } : defaults, input, {}, this.context.source);
    const meta = { ...request.envelope.meta, workflow: { id: this.workflowId, ...workflow } };
    return {
      id: randomUUID(),
      queue: request.queue,
      task,
      envelope: { ...request.envelope, meta },
      ...(request.attempts === undefined ? {} : { attempts: request.attempts }),
    };
  }

  /** A group's gathering job runs where its first task runs: some worker surely consumes that queue. */
  private queueOf(node: WorkflowNode): string {
    return this.context.defaultsOf(firstTask(node)).queue;
  }
}

function withWorkflowMeta(job: FlowJob, extra: Partial<WorkflowMeta>): FlowJob {
  const { meta } = job.envelope;
  return { ...job, envelope: { ...job.envelope, meta: { ...meta, workflow: { ...meta.workflow!, ...extra } } } };
}

/** A chain of chains is one chain. */
function flattenChain(steps: readonly WorkflowNode[]): WorkflowNode[] {
  return steps.flatMap((step) => (step.kind === 'chain' ? flattenChain(step.steps) : [step]));
}

/** The first task a node runs, depth first. */
function firstTask(node: WorkflowNode): string {
  switch (node.kind) {
    case 'task':
    case 'map':
    case 'chunks':
      return node.task;
    case 'chain':
      return firstTask(node.steps[0]!);
    case 'group':
      return firstTask(node.members[0]!);
    case 'chord':
      return firstTask(node.header[0]!);
  }
}

function sliceInputs(inputs: readonly unknown[], size: number): unknown[][] {
  const slices: unknown[][] = [];
  for (let start = 0; start < inputs.length; start += size) slices.push(inputs.slice(start, start + size));
  return slices;
}

function invalid(path: string, message: string): CeleriacError {
  return new CeleriacError(ErrorCode.InvalidOptions, `${path}: ${message}.`, { details: { path } });
}
