import { JobSource, createJobEnvelope } from '@celeriac/core';
import type { ConsumeOptions, EnqueueRequest } from '../broker.js';

/** An `echo` job on queue `default` with input `{ value: 1 }`, changed by `overrides`: what the suites enqueue. */
export function conformanceRequest(overrides: Partial<EnqueueRequest> = {}): EnqueueRequest {
  return {
    queue: 'default',
    task: 'echo',
    envelope: createJobEnvelope({ value: 1 }, { source: JobSource.Sdk }),
    ...overrides,
  };
}

/** One job at a time from queue `default`, with a lease long enough that no test loses a job to it. */
export const consumeOptions: ConsumeOptions = { queues: ['default'], concurrency: 1, leaseMs: 30_000, maxLostAttempts: 2 };

/** Polls `probe` every 50 ms until it is true, for up to `timeoutMs`. */
export async function until(probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
