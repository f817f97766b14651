import type { ChaosScope } from './chaos-scope.js';
import { createJobLedger, type JobLedger } from './job-ledger.js';
import { createWorkerFleet, type WorkerFleet, type WorkerFleetOptions } from './worker-processes.js';

/**
 * How every ledger scenario starts: an empty job ledger, removed after the test, and a fleet of `celeriac worker`
 * processes that write to it (the scope kills them first, then removes the ledger).
 */
export function createLedgerFleet(
  scope: ChaosScope,
  options: Omit<WorkerFleetOptions, 'env'>,
): { readonly ledger: JobLedger; readonly fleet: WorkerFleet } {
  const ledger = createJobLedger();
  scope.defer(() => ledger.remove());
  return { ledger, fleet: createWorkerFleet(scope, { ...options, env: ledger.env }) };
}
