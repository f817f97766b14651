import { JobState, findWaitingFor, usesGpu, type JobRecord, type WaitingFor } from '@celeriac/core';
import type { Broker } from '@celeriac/broker';
import type { CatalogueCache } from '@celeriac/client';

/** Tells what a queued job waits for; see {@link createJobWaitingForLookup}. */
export type JobWaitingForLookup = (record: JobRecord) => Promise<WaitingFor | undefined>;

/**
 * Creates the lookup behind `waitingFor` in `GET /v1/jobs/:id`: for a queued job whose task needs a GPU, it reads
 * the live workers' heartbeats and answers `{ reason: 'no-capable-worker', requires, queue }` when none of them
 * consumes the job's queue with what the task needs. Other jobs cost no extra Redis read.
 */
export function createJobWaitingForLookup(broker: Pick<Broker, 'listWorkers'>, catalogue: CatalogueCache): JobWaitingForLookup {
  return async (record) => {
    if (record.state !== JobState.Queued) return undefined;
    const entry = await catalogue.get(record.task);
    if (!entry || !usesGpu(entry.resources)) return undefined;
    return findWaitingFor(record, entry.resources, await broker.listWorkers());
  };
}
