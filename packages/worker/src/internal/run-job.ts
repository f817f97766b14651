import {
  CeleriacError,
  ErrorCode,
  Isolation,
  decodeJobEnvelope,
  formatValidationIssues,
  toValidationIssues,
  withInput,
  workflowMetaSchema,
  type FlowParent,
  type FlowSpec,
  type WorkflowMeta,
  isCeleriacError,
  isRetriedByPolicy,
  serializeError,
  type GpuRunner,
  type RateLimit,
  type TaskContext,
  type TaskDefinition,
} from '@celeriac/core';
import type { ReceivedJob } from '@celeriac/broker';
import { assertGpuDeclared } from './assert-gpu-declared.js';
import { runInline } from './run-inline.js';
import { runWithinLimits, type LimitKeeper } from './run-within-limits.js';
import type { SandboxPool } from './sandbox/sandbox-pool.js';
import { gatherInput } from './workflow/gather-input.js';
import { gatherTask } from './workflow/gather-task.js';

/** What running a job needs from the worker. */
export interface RunJobDependencies {
  readonly tasks: ReadonlyMap<string, TaskDefinition>;
  /** The sandbox pool, when the worker has a tasks module; tasks with `isolation: 'sandbox'` run there. */
  readonly sandbox?: SandboxPool;
  /** The shared concurrency and rate limits. */
  readonly limits: LimitKeeper;
  /** Rate limits changed at runtime (remote control), by task name; they replace the task's declared one. */
  readonly rateLimits?: ReadonlyMap<string, RateLimit>;
  /** How long a handler may keep running after its signal aborted (cancel, shutdown) before it is let go. */
  readonly abortGraceMs: number;
  /** The GPU runner, started on first use; only handed to tasks that declared `resources.gpu`. */
  gpu(): GpuRunner;
  /** Creates the next step of a workflow (the broker's addFlow). */
  addFlow(flow: FlowSpec, parent?: FlowParent): Promise<void>;
}

/**
 * Runs one job: finds its task, decodes its envelope, discards it if it expired, then runs the task under the
 * job's time limits. Everything that no retry can fix (unknown task, corrupt data, invalid input or output, an
 * expired job) fails non-retryably. A workflow's job may take its input from its children's results, run its task
 * over a list (map), and create the next step of its chain before it is marked done.
 */
export async function runJob(job: ReceivedJob, deps: RunJobDependencies): Promise<unknown> {
  const task = deps.tasks.get(job.task) ?? (job.task === gatherTask.name ? gatherTask : undefined);
  if (!task) {
    throw new CeleriacError(
      ErrorCode.TaskNotFound,
      `This worker does not know task "${job.task}" (it runs ${[...deps.tasks.keys()].join(', ')}). ` +
        `Start a worker with that task on queue "${job.queue}", or route the task to another queue.`,
      { details: { task: job.task, queue: job.queue } },
    );
  }
  const { input: envelopeInput, meta } = decodeJobEnvelope(job.data, job.id);
  if (meta.expiresAtMs !== undefined && Date.now() >= meta.expiresAtMs) throw expired(job, meta.expiresAtMs);
  const workflow = meta.workflow === undefined ? undefined : decodeWorkflowMeta(meta.workflow, job.id);
  const input = workflow?.gather ? gatherInput(await job.childResults(), workflow.gather) : envelopeInput;
  // Watched without an AbortController: a job cancelled while it ran must not start the rest of its chain.
  let aborted = false;
  job.onAbort(() => (aborted = true));
  try {
    const limits = meta.limits ?? task.limits;
    const sandbox = task.isolation === Isolation.Sandbox ? deps.sandbox : undefined;
    const runOnce = (itemInput: unknown): Promise<unknown> =>
      sandbox
        ? sandbox.run({
            jobId: job.id,
            taskName: task.name,
            attempt: job.attempt,
            input: itemInput,
            ...(limits.softMs === undefined ? {} : { softLimitMs: limits.softMs }),
            ...(limits.hardMs === undefined ? {} : { hardLimitMs: limits.hardMs }),
            onAbort: (listener) => job.onAbort(listener),
            abortGraceMs: deps.abortGraceMs,
            log: (line) => job.log(line),
            progress: (value) => job.progress(value),
          })
        : runInline(task, itemInput, new JobTaskContext(job, task, deps), limits, {
            onAbort: (listener) => job.onAbort(listener),
            graceMs: deps.abortGraceMs,
          });
    const run = async () => {
      const output = workflow?.map ? await runEach(job, input, runOnce) : await runOnce(input);
      const next = workflow?.then;
      if (next && !aborted) await deps.addFlow(withInput(next.flow, new Set(next.feed), output), next.parent);
      return output;
    };
    return await runWithinLimits(job, task, input, deps.limits, run, deps.rateLimits?.get(task.name) ?? task.rateLimit);
  } catch (error) {
    throw applyRetryOn(task, error);
  }
}

/** Runs the task once per item of a map job's input, one after another; the output is the list of outputs. */
async function runEach(job: ReceivedJob, input: unknown, runOnce: (item: unknown) => Promise<unknown>): Promise<unknown[]> {
  if (!Array.isArray(input)) {
    throw new CeleriacError(
      ErrorCode.JobDataCorrupt,
      `Job "${job.id}" is a map over task "${job.task}", but its input is not a list. Build maps with map(), starmap() or chunks().`,
      { details: { jobId: job.id } },
    );
  }
  const outputs: unknown[] = [];
  for (const item of input) outputs.push(await runOnce(item));
  return outputs;
}

/** Validates a job's workflow metadata, read back from Redis like the rest of the envelope. */
function decodeWorkflowMeta(raw: unknown, jobId: string): WorkflowMeta {
  const parsed = workflowMetaSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = toValidationIssues(parsed.error, 'job.data.meta.workflow');
  throw new CeleriacError(
    ErrorCode.JobDataCorrupt,
    `Job "${jobId}" has workflow data this worker cannot read (${formatValidationIssues(issues)}). ` +
      'Submit workflows through the celeriac client or HTTP API, and run clients and workers of the same version.',
    { details: { jobId, issues } },
  );
}

function expired(job: ReceivedJob, expiresAtMs: number): CeleriacError {
  return new CeleriacError(
    ErrorCode.JobExpired,
    `Job "${job.id}" expired at ${new Date(expiresAtMs).toISOString()} before it started, so it did not run.`,
    { details: { expiresAt: new Date(expiresAtMs).toISOString() } },
  );
}

/**
 * Applies the task's `retry.retryOn` list: an error that is not a celeriac error, and whose name or code is not
 * listed, fails the job now instead of being retried.
 */
function applyRetryOn(task: TaskDefinition, error: unknown): unknown {
  if (isCeleriacError(error) || isRetriedByPolicy(task.retry, error)) return error;
  const { message, details } = serializeError(error);
  return new CeleriacError(
    ErrorCode.HandlerError,
    `${message} (not retried: task "${task.name}" retries only ${task.retry.retryOn?.join(', ')})`,
    { details, retryable: false, cause: error },
  );
}

/**
 * The {@link TaskContext} of one job. A class rather than an object literal: its getters live on the prototype, so
 * building one per job is cheap, and `signal` is only created if the handler reads it.
 */
class JobTaskContext implements TaskContext {
  readonly jobId: string;
  readonly taskName: string;
  readonly attempt: number;

  constructor(
    private readonly job: ReceivedJob,
    private readonly task: TaskDefinition,
    private readonly deps: RunJobDependencies,
  ) {
    this.jobId = job.id;
    this.taskName = task.name;
    this.attempt = job.attempt;
  }

  get signal(): AbortSignal {
    return this.job.signal;
  }

  log(line: string): Promise<void> {
    return this.job.log(line);
  }

  progress(value: number | Readonly<Record<string, unknown>>): Promise<void> {
    return this.job.progress(value);
  }

  get gpu(): GpuRunner {
    assertGpuDeclared(this.task);
    return this.deps.gpu();
  }
}
