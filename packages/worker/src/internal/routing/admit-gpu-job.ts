import { usesGpu, type TaskDefinition } from '@celeriac/core';
import type { ReceivedJob } from '@celeriac/broker';
import type { GpuCapacity } from './gpu-capacity.js';
import type { RoutingPlan } from './plan-routing.js';

/** What {@link admitGpuJob} decided: run the job (and call `release` when it ends), or it was put back. */
export type GpuAdmission = { readonly deferred: false; release(): void } | { readonly deferred: true };

const admitted: GpuAdmission = { deferred: false, release: () => {} };

/** What admitting a job needs from the worker. */
export interface GpuAdmissionContext {
  readonly routing: RoutingPlan;
  readonly capacity: GpuCapacity;
  /** How long a job this worker cannot run waits before it is offered again. */
  readonly deferMs: number;
  /** Told once per task the first time one of its jobs is put back. */
  onDeferred(task: TaskDefinition, job: ReceivedJob): void;
}

/**
 * Lets a job start only when this worker can run it and has the GPU share it needs.
 *
 * - A job whose task needs more than this worker has should not be here (the worker leaves its task's queue alone),
 *   but a per-call `queue` override can put one on a queue it consumes. It goes back to its queue for `deferMs`
 *   without spending an attempt, so a capable worker of that queue can take it; it is never failed for this.
 * - Otherwise it waits for its share of the GPU capacity. Waiting here keeps the job's lease: BullMQ renews the lock of
 *   every job it handed out, waiting or not. Its time limits start later, when the handler does.
 */
export async function admitGpuJob(
  job: ReceivedJob,
  task: TaskDefinition | undefined,
  context: GpuAdmissionContext | undefined,
): Promise<GpuAdmission> {
  if (!task || !context || !usesGpu(task.resources)) return admitted;
  if (context.routing.unsatisfiedNames.has(task.name) || !context.capacity.fits(task.resources.gpu ?? 0)) {
    context.onDeferred(task, job);
    await job.defer(context.deferMs);
    return { deferred: true };
  }
  const release = await context.capacity.acquire(task.resources.gpu ?? 0, (listener) => job.onAbort(listener));
  return { deferred: false, release };
}
