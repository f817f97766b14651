import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode, JobState } from '@celeriac/core';
import { createClient, type JobHandle } from '@celeriac/client';
import { useTestRedis } from '@celeriac/testing';
import { celeriacBin, exitOf, startCli } from './fixtures/spawn-cli.js';

const redis = useTestRedis();
const tasksModule = fileURLToPath(new URL('./fixtures/process-tasks.js', import.meta.url));

/** A 1 s lease: a killed worker's jobs are recovered within about 2 s. */
const lease = '1s';

const workerArgs = (...extra: string[]) => [
  ...['worker', '--tasks', tasksModule, '--redis-url', redis.url, '--prefix', redis.prefix, '--lease', lease, '--concurrency', '2'],
  ...extra,
];

/** Kills `child` after the test, if it still runs, and waits for it to go (the harness then checks connections). */
function killAfterTest(child: ChildProcess): ChildProcess {
  redis.track({ close: async () => void (child.exitCode === null && child.kill('SIGKILL') && (await exitOf(child))) });
  return child;
}

/** Starts `celeriac worker` as its own process and resolves once it consumes. */
async function startWorkerProcess(): Promise<ChildProcess> {
  const { child } = await startCli(workerArgs(), /worker started/);
  return killAfterTest(child);
}

async function untilState(job: JobHandle<unknown>, state: JobState, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await job.state()) !== state && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(await job.state()).toBe(state);
}

describe('sandboxed handlers', () => {
  it('runs a CPU-bound handler for 3× the lease exactly once: the lease is renewed while it spins', { timeout: 60_000 }, async () => {
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    await startWorkerProcess();
    await startWorkerProcess(); // a second worker that would steal the job if its lease ever lapsed
    const job = await client.enqueueByName('spin', { ms: 3_000 });
    expect(await job.result({ timeoutMs: 30_000 })).toEqual({ spunMs: 3_000, attempt: 1 });
    const record = await job.record();
    expect(record.attempts.made).toBe(1);
    expect(record.history).toBeUndefined();
  });

  it('kills a spinning sandbox at its hard limit, and the worker keeps serving', { timeout: 60_000 }, async () => {
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    await startWorkerProcess();
    const job = await client.enqueueByName('spin', { ms: 20_000 }, { limits: { hard: 500 } });
    await expect(job.result({ timeoutMs: 15_000 })).rejects.toMatchObject({ code: ErrorCode.JobFailed });
    expect((await job.record()).error).toMatchObject({ code: ErrorCode.TimeLimitExceeded, details: { limit: 'hard' } });
    const next = await client.enqueueByName('spin', { ms: 10 });
    expect(await next.result({ timeoutMs: 15_000 })).toEqual({ spunMs: 10, attempt: 1 });
  });
});

describe('stall recovery', () => {
  it('runs the job of a SIGKILLed worker elsewhere, once, and records the lost attempt', { timeout: 60_000 }, async () => {
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const first = await startWorkerProcess();
    const job = await client.enqueueByName('sleepy', { ms: 1_500 });
    await untilState(job, JobState.Active);
    first.kill('SIGKILL');
    await exitOf(first);
    await startWorkerProcess();
    expect(await job.result({ timeoutMs: 30_000 })).toEqual({ sleptMs: 1_500, attempt: 2 });
    const record = await job.record();
    expect(record.state).toBe(JobState.Succeeded);
    expect(record.history).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'lost', error: expect.objectContaining({ code: ErrorCode.WorkerLost }) }),
    ]);
  });

  it('refuses the late completion of a worker that lost its lease', { timeout: 60_000 }, async () => {
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const frozen = await startWorkerProcess();
    const job = await client.enqueueByName('sleepy', { ms: 2_000 });
    await untilState(job, JobState.Active);
    // Freeze the worker: it stops renewing its lock, as it would on a long GC pause or a network partition.
    frozen.kill('SIGSTOP');
    await startWorkerProcess();
    expect(await job.result({ timeoutMs: 30_000 })).toEqual({ sleptMs: 2_000, attempt: 2 });
    const settled = await job.record();
    frozen.kill('SIGCONT');
    // The thawed worker finishes attempt 1 about now; BullMQ refuses it, because it no longer holds the lock.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const after = await job.record();
    expect(after.result).toEqual({ sleptMs: 2_000, attempt: 2 });
    expect(after.finishedAt).toBe(settled.finishedAt);
    expect(after.state).toBe(JobState.Succeeded);
  });

  it('fails a poison pill after a bounded number of lost attempts instead of looping', { timeout: 90_000 }, async () => {
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const job = await client.enqueueByName('poison', {});
    // Each worker that picks the job up dies with it; keep one alive until the job ends.
    const deadline = Date.now() + 60_000;
    let workers = 0;
    while (Date.now() < deadline && (await job.state()) !== JobState.Failed) {
      // Not waiting for "worker started": the worker may take the poison and die before it says so.
      const worker = killAfterTest(spawn(process.execPath, [celeriacBin, ...workerArgs('--max-lost-attempts', '1')], { stdio: 'ignore' }));
      workers += 1;
      await Promise.race([exitOf(worker), new Promise((resolve) => setTimeout(resolve, 3_000))]);
    }
    const record = await job.record();
    expect(record.state).toBe(JobState.Failed);
    expect(record.error?.code).toBe(ErrorCode.WorkerLost);
    // --max-lost-attempts 1 (the default is 2): the first loss is in the history, and the second ends the job.
    expect(record.history?.filter((attempt) => attempt.outcome === 'lost')).toHaveLength(1);
    expect(workers).toBeLessThanOrEqual(4);
  });
});
