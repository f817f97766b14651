import { z } from 'zod';
import type { WorkerInfo } from '../catalogue/worker-info.js';
import { taskResourcesSchema, usesGpu, type TaskResources } from '../task/task-resources.js';
import { matchResources } from './match-resources.js';

/** Why a queued job is not running yet, when it is something an operator must fix rather than a busy worker. */
export const WaitingReason = { NoCapableWorker: 'no-capable-worker' } as const;
/** One of {@link WaitingReason}. */
export type WaitingReason = (typeof WaitingReason)[keyof typeof WaitingReason];

/**
 * What a queued job waits for (`GET /v1/jobs/:id` answers it beside `state: 'queued'`): no live worker consumes its
 * queue with its task and the resources it `requires`. The job stays queued, and runs once such a worker starts.
 */
export const waitingForSchema = z.object({
  reason: z.enum(WaitingReason),
  requires: taskResourcesSchema,
  queue: z.string(),
});

/** See {@link waitingForSchema}. */
export type WaitingFor = z.output<typeof waitingForSchema>;

/**
 * Tells whether a queued job of `task` on `queue` waits for a capable worker: its task needs a GPU and none of the
 * live `workers` both consumes `queue` with that task and satisfies the task's `resources`. `undefined` when some
 * worker could take it (it waits only for a free slot) or when the task needs no GPU.
 */
export function findWaitingFor(
  job: { readonly task: string; readonly queue: string },
  resources: TaskResources,
  workers: readonly WorkerInfo[],
): WaitingFor | undefined {
  if (!usesGpu(resources)) return undefined;
  const capable = workers.some(
    (worker) =>
      worker.queues.includes(job.queue) &&
      worker.tasks.includes(job.task) &&
      matchResources(resources, worker.capabilities.gpu).satisfied,
  );
  if (capable) return undefined;
  return {
    reason: WaitingReason.NoCapableWorker,
    requires: taskResourcesSchema.parse(resources),
    queue: job.queue,
  };
}
