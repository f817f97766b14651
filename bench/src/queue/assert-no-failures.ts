import type { Queue } from 'bullmq';

/**
 * Checks, after a measurement, that every job completed: a failed or leftover job means the figure measured
 * something else than no-op jobs (a validation error, say), so the run stops instead of printing it.
 */
export async function assertNoFailures(queue: Queue, side: string): Promise<void> {
  const counts = await queue.getJobCounts('failed', 'waiting', 'active', 'delayed', 'prioritized');
  const left = Object.entries(counts).filter(([, count]) => count > 0);
  if (left.length > 0) {
    const summary = left.map(([state, count]) => `${count} ${state}`).join(', ');
    throw new Error(`${side}: jobs did not all complete (${summary})`);
  }
}
