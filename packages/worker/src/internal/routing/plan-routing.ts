import { gpuCountOf, matchResources, usesGpu, type GpuCapability, type TaskDefinition } from '@celeriac/core';
import { toGpuUnits } from './gpu-capacity.js';

/** A registered task this worker cannot run, and what that costs. */
export interface UnsatisfiedTask {
  readonly task: string;
  readonly queue: string;
  /** False when the worker was not asked to consume the task's queue anyway. */
  readonly leavesQueue: boolean;
  /** What the worker lacks, one line each. */
  readonly reasons: readonly string[];
  /** Other tasks of this worker on the same queue, which it therefore does not serve either. */
  readonly alsoUnserved: readonly string[];
}

/** Which queues a worker consumes, and how many jobs it fetches at once from each. */
export interface RoutingPlan {
  /** The queues to consume: the asked-for ones minus those holding a task this worker cannot run. */
  readonly queues: readonly string[];
  /**
   * Per-queue fetch limits below the worker's concurrency, for queues that hold only GPU tasks: as many jobs as fit
   * the GPU capacity at the smallest share, so the worker does not fetch jobs it would only hold.
   */
  readonly queueConcurrency: Readonly<Record<string, number>>;
  /** The tasks this worker cannot run, each with the queue it leaves alone. */
  readonly unsatisfied: readonly UnsatisfiedTask[];
  /** Names of the tasks this worker cannot run, for a quick check per job. */
  readonly unsatisfiedNames: ReadonlySet<string>;
}

/** What {@link planRouting} decides from. */
export interface RoutingInput {
  readonly tasks: readonly TaskDefinition[];
  /** The queues the worker was asked to consume. */
  readonly queues: readonly string[];
  readonly concurrency: number;
  /** The worker's GPU, with its `count`; `undefined` when it has no GPU task and did not look. */
  readonly gpu: GpuCapability | undefined;
}

/**
 * Decides which queues a worker consumes. A worker leaves alone every queue that holds a task it cannot run (not
 * enough GPU, a missing feature, a software adapter where a discrete one is asked for): BullMQ cannot skip a job it
 * does not want, so consuming such a queue would take those jobs from capable workers. Jobs no live worker can run
 * then wait in their queue, and run as soon as a capable worker starts.
 */
export function planRouting({ tasks, queues, concurrency, gpu }: RoutingInput): RoutingPlan {
  const unsatisfied: UnsatisfiedTask[] = [];
  const leftAlone = new Set<string>();
  for (const task of tasks) {
    const match = matchResources(task.resources, gpu);
    if (match.satisfied) continue;
    const leavesQueue = queues.includes(task.queue);
    if (leavesQueue) leftAlone.add(task.queue);
    const alsoUnserved = leavesQueue
      ? tasks
          .filter((other) => other !== task && other.queue === task.queue && matchResources(other.resources, gpu).satisfied)
          .map((other) => other.name)
      : [];
    unsatisfied.push({ task: task.name, queue: task.queue, reasons: match.reasons, leavesQueue, alsoUnserved });
  }
  const consumed = queues.filter((queue) => !leftAlone.has(queue));
  const capacityUnits = toGpuUnits(gpuCountOf(gpu));
  const queueConcurrency: Record<string, number> = {};
  for (const queue of consumed) {
    const onQueue = tasks.filter((task) => task.queue === queue);
    if (onQueue.length === 0 || !onQueue.every((task) => usesGpu(task.resources))) continue;
    const smallest = Math.min(...onQueue.map((task) => toGpuUnits(task.resources.gpu ?? 0)));
    queueConcurrency[queue] = Math.max(1, Math.min(concurrency, Math.floor(capacityUnits / smallest)));
  }
  return {
    queues: consumed,
    queueConcurrency,
    unsatisfied,
    unsatisfiedNames: new Set(unsatisfied.map((entry) => entry.task)),
  };
}

/** The warning a worker logs at start for a task it cannot run: what it lacks, what follows, and what to do. */
export function describeUnsatisfied({ task, queue, reasons, leavesQueue, alsoUnserved }: UnsatisfiedTask): string {
  const consequence = leavesQueue
    ? `This worker does not consume queue "${queue}"` +
      (alsoUnserved.length > 0 ? ` (so it does not serve ${alsoUnserved.join(', ')} there either)` : '') +
      ', and its jobs wait there for a capable worker.'
    : `Its queue "${queue}" is not among this worker's queues anyway.`;
  const fix =
    alsoUnserved.length > 0
      ? ` Give "${task}" a queue of its own (GPU tasks without a queue get one), or run it on a worker that has what it needs.`
      : " Run it on a worker that has what it needs, or remove it from this worker's tasks.";
  return `task "${task}" cannot run on this worker: it ${reasons.join('; ')}. ${consequence}${fix}`;
}
