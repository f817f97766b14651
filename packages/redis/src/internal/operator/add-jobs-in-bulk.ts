import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import type { JobEnvelope } from '@celeriac/core';
import type { BinaryStore, InputBlob } from '../binary-store.js';
import { reloadScripts } from '../add-job-with-input.js';

/** One job of a bulk add, ready for BullMQ. */
export interface BulkJob {
  readonly queue: Queue;
  readonly task: string;
  readonly envelope: JobEnvelope;
  readonly opts: JobsOptions & { readonly jobId: string };
  /** The typed arrays of its input, written into the job's hash in the same transaction. */
  readonly blob?: InputBlob;
}

/**
 * Adds many jobs, on any queues of one prefix, in one MULTI: what BullMQ's `addBulk` does for one queue, plus the
 * input blobs (see addJobWithInput). The jobs appear together, so a worker never sees half a batch, and a client
 * that dies mid-call leaves all or none. The keys share the prefix's hash tag, so this also holds on a cluster.
 *
 * @param connection the connection the queues run on (BullMQ's scripts are defined on it)
 * @returns one job per entry, in order; an id is the one BullMQ answered (an existing job's for a duplicate id)
 */
export async function addJobsInBulk(
  connection: Redis,
  binary: BinaryStore,
  entries: readonly BulkJob[],
): Promise<Job[]> {
  const first = entries[0];
  if (!first) return [];
  const jobs = entries.map(({ queue, task, envelope, opts }) => new Job(queue, task, envelope, opts, opts.jobId));
  for (let attempt = 1; ; attempt++) {
    // Every queue of the prefix runs on `connection`, so the first queue's client serves them all.
    const transaction = (await first.queue.backend.client).multi();
    // A MULTI counts its own MULTI command in `length`, but exec() answers only the queued commands: count from here.
    const queued = () => (transaction as unknown as { length: number }).length;
    const base = queued();
    const addAt: number[] = [];
    for (const [index, entry] of entries.entries()) {
      addAt.push(queued() - base);
      await jobs[index]!.addJob(transaction);
      if (entry.blob) binary.attachInput(transaction as unknown as ChainableCommander, entry.queue.name, entry.opts.jobId, entry.blob);
    }
    const results = (await transaction.exec()) ?? [];
    if (results.length === 0) throw new Error(`Adding ${entries.length} jobs was aborted before it ran; submit them again.`);
    // Redis lost its scripts (SCRIPT FLUSH): as in addJobWithInput, nothing was created; load them and try once more.
    const noScript = results.some(([error]) => error instanceof Error && error.message.startsWith('NOSCRIPT'));
    if (noScript && attempt === 1) {
      await reloadScripts(connection);
      continue;
    }
    return jobs.map((job, index) => {
      const [error, id] = results[addAt[index]!] ?? [new Error('no reply')];
      if (error) throw error;
      if (typeof id !== 'string') throw new Error(`BullMQ refused to add job "${String(job.id)}" (code ${String(id)}).`);
      job.id = id;
      return job;
    });
  }
}
