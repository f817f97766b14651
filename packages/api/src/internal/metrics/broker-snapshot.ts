import type { WorkerInfo } from '@celeriac/core';
import type { Broker, JobStats, QueueSummary } from '@celeriac/broker';

/** What one scrape reads from the broker; a part that could not be read is absent. */
export interface BrokerSnapshot {
  readonly queues?: readonly QueueSummary[];
  readonly workers?: readonly WorkerInfo[];
  readonly stats?: JobStats;
  /** Whether every part was read. */
  readonly complete: boolean;
}

/**
 * Reads what the metrics show, at scrape time and in parallel: queue counts, live workers (with their GPU
 * activity from the heartbeats), and the job statistics workers recorded. Each read has the broker's command
 * timeout, so a scrape with Redis down answers in about that time, with the process metrics still there.
 */
export async function readBrokerSnapshot(broker: Broker): Promise<BrokerSnapshot> {
  const [queues, workers, stats] = await Promise.allSettled([broker.listQueues(), broker.listWorkers(), broker.readJobStats()]);
  return {
    ...(queues.status === 'fulfilled' ? { queues: queues.value } : {}),
    ...(workers.status === 'fulfilled' ? { workers: workers.value } : {}),
    ...(stats.status === 'fulfilled' ? { stats: stats.value } : {}),
    complete: queues.status === 'fulfilled' && workers.status === 'fulfilled' && stats.status === 'fulfilled',
  };
}
