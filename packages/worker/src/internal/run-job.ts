import {
  CeleriacError,
  ErrorCode,
  decodeJobEnvelope,
  type GpuRunner,
  type TaskContext,
  type TaskDefinition,
} from '@celeriac/core';
import type { ReceivedJob } from '@celeriac/broker';
import { executeTask } from './execute-task.js';

/** What running a job needs from the worker. */
export interface RunJobDependencies {
  readonly tasks: ReadonlyMap<string, TaskDefinition>;
  /** The GPU runner, started on first use; only handed to tasks that declared `resources.gpu`. */
  gpu(): GpuRunner;
}

/**
 * Runs one job: finds its task, decodes its envelope, then {@link executeTask}. Everything that no retry can fix
 * (unknown task, corrupt data, invalid input or output) fails non-retryably.
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
  return executeTask(task, envelope.input, createTaskContext(job, task, signal, deps));
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
