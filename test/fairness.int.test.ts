import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import { defineTask } from '@celeriac/core';
import { createClient } from '@celeriac/client';
import { createWorker, type WorkerOptions } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { exitOf, runCli, startCli } from './fixtures/spawn-cli.js';

const redis = useTestRedis();
const processTasks = fileURLToPath(new URL('./fixtures/process-tasks.js', import.meta.url));

/** Per-tenant counters of the jobs running now, and the most that ever ran at once. */
const running = new Map<string, number>();
const peak = new Map<string, number>();

const tenantWork = defineTask({
  name: 'tenant-work',
  input: z.object({ tenant: z.string(), ms: z.number().int() }),
  output: z.object({ startedAtMs: z.number() }),
  concurrency: { key: (input) => input.tenant, limit: 2 },
  // Inline, so the counters above are the ones the handler updates.
  isolation: 'inline',
  handler: async ({ tenant, ms }) => {
    const startedAtMs = Date.now();
    const now = (running.get(tenant) ?? 0) + 1;
    running.set(tenant, now);
    peak.set(tenant, Math.max(peak.get(tenant) ?? 0, now));
    await new Promise((resolve) => setTimeout(resolve, ms));
    running.set(tenant, (running.get(tenant) ?? 1) - 1);
    return { startedAtMs };
  },
});

const rateLimited = defineTask({
  name: 'rate-limited',
  input: z.object({}),
  output: z.object({ startedAtMs: z.number() }),
  rateLimit: '5/s',
  isolation: 'inline',
  handler: () => ({ startedAtMs: Date.now() }),
});

const unlimited = defineTask({
  name: 'unlimited',
  queue: 'throttled',
  input: z.object({}),
  output: z.object({ startedAtMs: z.number() }),
  isolation: 'inline',
  handler: () => ({ startedAtMs: Date.now() }),
});

async function startWorker(concurrency: number, options: Partial<WorkerOptions> = {}) {
  const worker = redis.track(
    createWorker({
      tasks: [tenantWork, rateLimited, unlimited],
      connection: redis.url,
      prefix: redis.prefix,
      logger: pino({ level: 'silent' }),
      concurrency,
      ...options,
    }),
  );
  await worker.start();
}

describe('fairness and rate limits', () => {
  it("does not let a tenant with 1,000 queued jobs delay another tenant's job beyond its per-key limit", { timeout: 60_000 }, async () => {
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    await Promise.all(Array.from({ length: 1_000 }, () => client.enqueue(tenantWork, { tenant: 'big', ms: 200 })));
    const enqueuedAtMs = Date.now();
    const small = await client.enqueue(tenantWork, { tenant: 'small', ms: 10 });
    await startWorker(10);
    const { startedAtMs } = await small.result({ timeoutMs: 30_000 });
    // Behind 1,000 jobs, the small tenant's job starts after the worker has skipped the big tenant's (each skip is
    // a Redis round trip or two), not after they ran: running them would take 1,000 × 200 ms / 2 = 100 s.
    expect(startedAtMs - enqueuedAtMs).toBeLessThan(10_000);
    expect(peak.get('big')).toBe(2);
  });

  it('starts at most 5 jobs of a task a second under its 5/s rate limit', { timeout: 30_000 }, async () => {
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const jobs = await Promise.all(Array.from({ length: 10 }, () => client.enqueue(rateLimited, {})));
    await startWorker(10);
    const starts = (await Promise.all(jobs.map((job) => job.result({ timeoutMs: 20_000 })))).map((r) => r.startedAtMs).sort((a, b) => a - b);
    // One start every 200 ms: no one-second window holds more than 5 starts. Tolerance: a start may come early by
    // the clock difference between Redis (which spaces them) and this process (which stamps them), ~a few ms here.
    for (let i = 5; i < 10; i++) expect(starts[i]! - starts[i - 5]!).toBeGreaterThanOrEqual(990);
  });

  it('limits a whole queue with a worker-level rate limit (BullMQ limiter, global in Redis)', { timeout: 30_000 }, async () => {
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const jobs = await Promise.all(Array.from({ length: 10 }, () => client.enqueue(unlimited, {})));
    await startWorker(10, { queueRateLimits: { throttled: '5/s' } });
    const starts = (await Promise.all(jobs.map((job) => job.result({ timeoutMs: 20_000 })))).map((r) => r.startedAtMs).sort((a, b) => a - b);
    // BullMQ's limiter counts starts per fixed window of 1 s: five, then the next five a window later. Tolerance: a
    // window may close a few ms before this process stamps the last start of the previous one.
    expect(starts[5]! - starts[4]!).toBeGreaterThanOrEqual(500);
    for (let i = 5; i < 10; i++) expect(starts[i]! - starts[i - 5]!).toBeGreaterThanOrEqual(900);
  });

  it('takes queue rate limits from `celeriac worker --queue-rate-limit`', { timeout: 30_000 }, async () => {
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const jobs = await Promise.all(Array.from({ length: 4 }, () => client.enqueueByName('sleepy', { ms: 0 })));
    const connection = ['--redis-url', redis.url, '--prefix', redis.prefix];
    const args = ['worker', '--tasks', processTasks, ...connection, '--concurrency', '4', '--queue-rate-limit', 'default=2/s'];
    const { child } = await startCli(args, /worker started/);
    redis.track({ close: async () => void (child.exitCode === null && child.kill('SIGTERM') && (await exitOf(child))) });
    await Promise.all(jobs.map((job) => job.result({ timeoutMs: 20_000 })));
    const starts = (await Promise.all(jobs.map(async (job) => Date.parse((await job.record()).startedAt!)))).sort((a, b) => a - b);
    // Two starts per window of 1 s, with the tolerance of the test above.
    for (let i = 2; i < 4; i++) expect(starts[i]! - starts[i - 2]!).toBeGreaterThanOrEqual(900);
  });

  it('refuses a malformed --queue-rate-limit, naming what is wrong', async () => {
    const connection = ['--redis-url', redis.url, '--prefix', redis.prefix];
    const malformed = await runCli(['worker', '--tasks', processTasks, ...connection, '--queue-rate-limit', 'default']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--queue-rate-limit takes <queue>=<rate> pairs such as emails=100/s, got "default"');
    const badRate = await runCli(['worker', '--tasks', processTasks, ...connection, '--queue-rate-limit', 'default=fast']);
    expect(badRate.code).toBe(1);
    expect(badRate.stderr).toContain('worker.queueRateLimits.default: expected a rate such as "100/s", "30/m" or "1000/h"');
    expect(badRate.stderr).toContain('[CELERIAC_INVALID_OPTIONS]');
  });
});
