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
export async function runJob(job: ReceivedJob, deps: RunJobDependencies): Promise<unknown> {
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
  return executeTask(task, envelope.input, new JobTaskContext(job, task, deps));
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
    this.attempt = job.attemptsMade + 1;
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
    if ((this.task.resources.gpu ?? 0) <= 0) {
      throw new CeleriacError(
        ErrorCode.GpuUnavailable,
        `Task "${this.task.name}" used ctx.gpu without declaring it. Add resources: { gpu: 1 } to its definition.`,
        { details: { task: this.task.name } },
      );
    }
    return this.deps.gpu();
  }
}
