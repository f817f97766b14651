import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import type { JobEnvelope } from '@celeriac/core';
import type { BinaryStore, InputBlob } from './binary-store.js';
import { asCluster } from './create-connection.js';

/**
 * Creates a BullMQ job and puts its input blob into the job's hash in one MULTI, so the job and its blob appear
 * together: no worker can fetch the job before its blob is there, a client that dies mid-call leaves either both or
 * neither, and the blob crosses to Redis once, with nothing to move afterwards. (`queue.add` runs BullMQ's add
 * script on its own, and the hash cannot be written before it: BullMQ takes an existing hash for a duplicate.)
 *
 * BullMQ's FlowProducer adds a flow's jobs to one MULTI the same way, through `job.addJob(transaction)`.
 *
 * @param connection the connection `queue` runs on (BullMQ's scripts are defined on it)
 * @returns the job; its id is the one `add` answered, which for a dedupe hit is the id of the job holding the key
 */
export async function addJobWithInput(
  connection: Redis,
  queue: Queue,
  binary: BinaryStore,
  request: { readonly task: string; readonly envelope: JobEnvelope; readonly opts: JobsOptions & { readonly jobId: string } },
  blob: InputBlob,
): Promise<Job> {
  const { task, envelope, opts } = request;
  const job = new Job(queue, task, envelope, opts, opts.jobId);
  for (let attempt = 1; ; attempt++) {
    const transaction = (await queue.backend.client).multi();
    await job.addJob(transaction);
    // On ioredis, BullMQ's transaction is ioredis's own MULTI with a few methods added, so ours can be queued on it.
    binary.attachInput(transaction as unknown as ChainableCommander, queue.name, opts.jobId, blob);
    const [added] = (await transaction.exec()) ?? [];
    if (!added) throw new Error(`Adding job "${opts.jobId}" was aborted before it ran; enqueue it again.`);
    const [error, id] = added;
    // Redis lost its scripts (a SCRIPT FLUSH): inside a MULTI, ioredis neither sends BullMQ's add script again nor
    // notices, so every later MULTI would fail too. Nothing was created: the keep script (sent with EVAL) dropped the
    // blob again, since no job had its data. Load the scripts, and try once more.
    if (error instanceof Error && error.message.startsWith('NOSCRIPT') && attempt === 1) {
      await reloadScripts(connection);
      continue;
    }
    if (error) throw error;
    // BullMQ's add scripts answer a negative code only for a missing parent, and an enqueued job has none.
    if (typeof id !== 'string') throw new Error(`BullMQ refused to add job "${opts.jobId}" (code ${String(id)}).`);
    job.id = id;
    return job;
  }
}

/**
 * Loads into Redis every script defined on the connection (BullMQ's), in one round trip. On a cluster SCRIPT LOAD
 * has no key to route by, so it goes to every master (the one holding the prefix's slot may change in a failover).
 */
export async function reloadScripts(connection: Redis): Promise<void> {
  const scripts = Object.values(connection.scriptsSet as Record<string, { readonly lua: string }>);
  const nodes = asCluster(connection)?.nodes('master') ?? [connection];
  await Promise.all(
    nodes.map(async (node) => {
      const pipeline = node.pipeline();
      for (const { lua } of scripts) pipeline.script('LOAD', lua);
      await pipeline.exec();
    }),
  );
}
