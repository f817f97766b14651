import type { Client } from '@celeriac/client';
import type { QueueSummary } from '@celeriac/broker';
import type { JobLedger, LedgerView } from './job-ledger.js';

/** Where a scenario stood when it settled (or gave up waiting). */
export interface Settled {
  readonly view: LedgerView;
  /** Summed over the scenario's queues. */
  readonly counts: QueueSummary['counts'];
  /** True if everything settled before the deadline. */
  readonly settled: boolean;
  /** When it settled, or gave up. */
  readonly atMs: number;
}

/**
 * Waits until every acknowledged job's side effect is in the ledger and no job of the scenario's prefix is queued,
 * delayed or active any more (a job whose handler finished but whose completion is not recorded yet is still
 * active, and may still run again). Never throws on the deadline: it answers where things stood, so the test's
 * assertions say what is missing.
 */
export async function untilSettled(client: Client, ledger: JobLedger, timeoutMs: number): Promise<Settled> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = ledger.read();
    const counts = await sumCounts(client).catch(() => undefined);
    const idle = counts !== undefined && counts.queued + counts.delayed + counts.active === 0;
    if ((idle && view.lost().length === 0) || Date.now() > deadline) {
      return { view, counts: counts ?? (await sumCounts(client)), settled: idle && view.lost().length === 0, atMs: Date.now() };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function sumCounts(client: Client): Promise<QueueSummary['counts']> {
  const sum = { queued: 0, delayed: 0, active: 0, succeeded: 0, failed: 0 };
  for (const { counts } of await client.listQueues()) {
    for (const key of Object.keys(sum) as (keyof typeof sum)[]) sum[key] += counts[key];
  }
  return sum;
}
