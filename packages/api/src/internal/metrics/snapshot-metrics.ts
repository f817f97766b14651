import type { BrokerSnapshot } from './broker-snapshot.js';

/** One sample: its labels, its value, and its name when it is a histogram's `_bucket`, `_sum` or `_count`. */
export interface MetricSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly metricName?: string;
}

/** A metric whose samples are computed from the broker snapshot of the current scrape. */
export interface SnapshotMetricDefinition {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  values(snapshot: BrokerSnapshot): MetricSample[];
}

const queueStates = ['queued', 'delayed', 'active', 'succeeded', 'failed'] as const;

/**
 * Every celeriac metric of `/metrics`, documented in docs/operations.md. Counters come from totals kept in Redis
 * (the workers' job statistics) or in heartbeats (GPU activity), so they are as monotonic as those: the statistics
 * never go back, and a worker's GPU counters start again when that worker (or its executor process) does.
 */
export const snapshotMetricDefinitions: readonly SnapshotMetricDefinition[] = [
  {
    name: 'celeriac_broker_up',
    help: 'Whether this scrape read everything it needed from Redis (1) or not (0; the celeriac metrics it could not read are missing).',
    type: 'gauge',
    values: (s) => [{ labels: {}, value: s.complete ? 1 : 0 }],
  },
  {
    name: 'celeriac_queue_jobs',
    help: 'Jobs per queue and state, read at scrape time. delayed covers scheduled and retrying jobs; succeeded and failed count the jobs still retained.',
    type: 'gauge',
    values: (s) =>
      (s.queues ?? []).flatMap((queue) => queueStates.map((state) => ({ labels: { queue: queue.name, state }, value: queue.counts[state] }))),
  },
  {
    name: 'celeriac_queue_paused',
    help: 'Whether a queue is paused (1): no worker takes its jobs.',
    type: 'gauge',
    values: (s) => (s.queues ?? []).map((queue) => ({ labels: { queue: queue.name }, value: queue.paused ? 1 : 0 })),
  },
  {
    name: 'celeriac_workers',
    help: 'Live workers (their heartbeat has not expired).',
    type: 'gauge',
    values: (s) => (s.workers ? [{ labels: {}, value: s.workers.length }] : []),
  },
  {
    name: 'celeriac_queue_workers',
    help: 'Live workers consuming each queue; 0 for a known queue that no worker consumes.',
    type: 'gauge',
    values: (s) => {
      if (!s.workers) return [];
      const counts = new Map<string, number>((s.queues ?? []).map((queue) => [queue.name, 0]));
      for (const worker of s.workers) for (const queue of worker.queues) counts.set(queue, (counts.get(queue) ?? 0) + 1);
      return [...counts].map(([queue, value]) => ({ labels: { queue }, value }));
    },
  },
  {
    name: 'celeriac_job_duration_seconds',
    help: 'How long job attempts ran on workers, by task and outcome (succeeded, or failed whether retried or not).',
    type: 'histogram',
    values: (s) =>
      (s.stats?.durations ?? []).flatMap((entry) => {
        const labels = { task: entry.task, outcome: entry.outcome };
        return [
          ...entry.buckets.map((bucket) => ({
            metricName: 'celeriac_job_duration_seconds_bucket',
            labels: { ...labels, le: bucket.le === Infinity ? '+Inf' : String(bucket.le) },
            value: bucket.count,
          })),
          { metricName: 'celeriac_job_duration_seconds_sum', labels, value: entry.sumSeconds },
          { metricName: 'celeriac_job_duration_seconds_count', labels, value: entry.count },
        ];
      }),
  },
  {
    name: 'celeriac_job_failures_total',
    help: 'Failed job attempts by task and error code; final="true" when the job failed for good, "false" when it was retried.',
    type: 'counter',
    values: (s) =>
      (s.stats?.failures ?? []).map((entry) => ({
        labels: { task: entry.task, code: entry.code, final: String(entry.final) },
        value: entry.count,
      })),
  },
  {
    name: 'celeriac_gpu_executor_restarts_total',
    help: "GPU executor processes a live worker replaced (crashed, killed or lost its device), from the worker's heartbeat.",
    type: 'counter',
    values: (s) =>
      gpuWorkers(s).map(({ id, activity }) => ({ labels: { worker: id }, value: Math.max(0, activity.executorStarts - 1) })),
  },
  {
    name: 'celeriac_gpu_kernel_seconds_total',
    help: "GPU time per kernel from timestamp queries, by worker (its current executor process); absent where the adapter has no timestamps.",
    type: 'counter',
    values: (s) =>
      gpuWorkers(s).flatMap(({ id, activity }) =>
        Object.entries(activity.kernelTimings).map(([kernel, timing]) => ({
          labels: { worker: id, kernel },
          value: timing.totalNs / 1e9,
        })),
      ),
  },
  {
    name: 'celeriac_gpu_kernel_runs_total',
    help: 'Timed kernel runs per kernel, by worker (its current executor process).',
    type: 'counter',
    values: (s) =>
      gpuWorkers(s).flatMap(({ id, activity }) =>
        Object.entries(activity.kernelTimings).map(([kernel, timing]) => ({ labels: { worker: id, kernel }, value: timing.runs })),
      ),
  },
];

function gpuWorkers(snapshot: BrokerSnapshot) {
  return (snapshot.workers ?? []).flatMap((worker) => (worker.gpuActivity ? [{ id: worker.id, activity: worker.gpuActivity }] : []));
}
