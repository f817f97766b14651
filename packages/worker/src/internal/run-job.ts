import {
  CeleriacError,
  ErrorCode,
  decodeJobEnvelope,
  formatValidationIssues,
  toValidationIssues,
  type GpuRunner,
  type TaskContext,
  type TaskDefinition,
} from '@celeriac/core';
import type { ReceivedJob } from '@celeriac/broker';

/** What running a job needs from the worker. */
export interface RunJobDependencies {
  readonly tasks: ReadonlyMap<string, TaskDefinition>;
  /** The GPU runner, started on first use; only handed to tasks that declared `resources.gpu`. */
  gpu(): GpuRunner;
}

/**
 * Runs one job: decodes its envelope, validates the input, calls the handler and validates its output.
 * Everything that no retry can fix (unknown task, corrupt data, invalid input or output) fails non-retryably.
 */
export async function runJob(job: ReceivedJob, signal: AbortSignal, deps: RunJobDependencies): Promise<unknown> {
  const task = deps.tasks.get(job.task);
  if (!task) {
    throw new CeleriacError(
      ErrorCode.TaskNotFound,
      `This worker does not know task "${job.task}" (it runs ${[...deps.tasks.keys()].join(', ')}). ` +
        `Start a worker with that task on queue "${job.queue}", or route the task to another queue.`,
      { details: { task: job.task, queue: job.queue } },
    );
  }
  const envelope = decodeJobEnvelope(job.data, job.id);
  const input = task.input.safeParse(envelope.input);
  if (!input.success) {
    const issues = toValidationIssues(input.error, 'input');
    throw new CeleriacError(
      ErrorCode.InvalidInput,
      `Job "${job.id}" has invalid input for task "${task.name}": ${formatValidationIssues(issues)}.`,
      { details: { issues } },
    );
  }
  const output = await task.handler(input.data, createTaskContext(job, task, signal, deps));
  const parsed = task.output.safeParse(output);
  if (!parsed.success) {
    const issues = toValidationIssues(parsed.error, 'output');
    throw new CeleriacError(
      ErrorCode.InvalidOutput,
      `Task "${task.name}" returned an output its schema rejects: ${formatValidationIssues(issues)}. ` +
        'Fix the handler or the output schema.',
      { details: { issues } },
    );
  }
  return parsed.data;
}

function createTaskContext(
  job: ReceivedJob,
  task: TaskDefinition,
  signal: AbortSignal,
  deps: RunJobDependencies,
): TaskContext {
  const usesGpu = (task.resources.gpu ?? 0) > 0;
  return {
    jobId: job.id,
    taskName: task.name,
    attempt: job.attemptsMade + 1,
    signal,
    log: (line) => job.log(line),
    get gpu(): GpuRunner {
      if (!usesGpu) {
        throw new CeleriacError(
          ErrorCode.GpuUnavailable,
          `Task "${task.name}" used ctx.gpu without declaring it. Add resources: { gpu: 1 } to its definition.`,
          { details: { task: task.name } },
        );
      }
      return deps.gpu();
    },
  };
}
