import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { JobState, defineTask } from '@celeriac/core';
import { createClient } from '@celeriac/client';
import { createWorker, type WorkerOptions } from '@celeriac/worker';
import { createApiServer } from '@celeriac/api';
import { useTestRedis } from '@celeriac/testing';
import { pollUntil } from './fixtures/poll-until.js';

const redis = useTestRedis();
const silent = pino({ level: 'silent' });

/** Jobs of `hold` run until the test releases them; `running` counts those running now, `started` all that began. */
const gate = { running: 0, started: 0, release: () => {}, released: Promise.resolve() };
function closeGate(): void {
  gate.running = 0;
  gate.started = 0;
  gate.released = new Promise<void>((resolve) => (gate.release = resolve));
}

const hold = defineTask({
  name: 'hold',
  input: z.object({ n: z.number() }),
  output: z.number(),
  handler: async ({ n }) => {
    gate.running++;
    gate.started++;
    try {
      await gate.released;
      return n;
    } finally {
      gate.running--;
    }
  },
});

const tick = defineTask({ name: 'tick', input: z.object({ n: z.number() }), output: z.number(), handler: ({ n }) => n });

async function startWorker(options: Partial<WorkerOptions> = {}) {
  const worker = redis.track(
    createWorker({
      tasks: [hold, tick],
      connection: redis.url,
      prefix: redis.prefix,
      logger: silent,
      concurrency: 2,
      // Long enough that a loaded CI machine does not let the heartbeat lapse between beats (it lives 3 intervals).
      heartbeatInterval: '1s',
      shutdownTimeout: '5s',
      ...options,
    }),
  );
  await worker.start();
  return worker;
}

async function startApi(): Promise<FastifyInstance> {
  return redis.track(await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false }));
}

const control = (app: FastifyInstance, body: unknown) =>
  app.inject({ method: 'POST', url: '/v1/workers/control', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

const client = () => redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));

describe('operator control of live workers', () => {
  it('lists workers with their queues, concurrency and the jobs they run', async () => {
    closeGate();
    const worker = await startWorker({ concurrency: 3 });
    const app = await startApi();
    const job = await client().enqueue(hold, { n: 1 });
    const listed = await pollUntil(async () => {
      const { workers } = (await app.inject('/v1/workers')).json();
      return workers[0]?.activeJobs?.includes(job.id) ? workers[0] : undefined;
    });
    expect(listed).toMatchObject({ id: worker.id, queues: ['default'], concurrency: 3, paused: false, tasks: ['hold', 'tick'] });
    expect(listed.capabilities.cpuSlots).toBeGreaterThan(0);
    expect(listed.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
    expect(listed.heartbeatAgeMs).toBeLessThan(5_000);
    gate.release();
    await job.result({ timeoutMs: 10_000 });
    await pollUntil(async () => ((await app.inject('/v1/workers')).json().workers[0]?.activeJobs?.length === 0 ? true : undefined));
  });

  it('pings two workers, and addresses one by id', async () => {
    const [first, second] = [await startWorker(), await startWorker()];
    const app = await startApi();
    const ping = (await app.inject('/v1/workers/ping?timeoutMs=10000')).json();
    expect(ping.replies.map((reply: { worker: string }) => reply.worker).sort()).toEqual([first.id, second.id].sort());
    expect(ping.missing).toEqual([]);
    expect(ping.replies[0]).toMatchObject({ ok: true, result: { queues: ['default'], concurrency: 2, paused: false, activeJobs: [] } });
    const one = (await control(app, { command: 'ping', workers: [second.id], timeoutMs: 10_000 })).json();
    expect(one.replies.map((reply: { worker: string }) => reply.worker)).toEqual([second.id]);
    const sdk = await client().ping({ timeout: '10s' });
    expect(sdk.replies).toHaveLength(2);
  });

  it('shuts a worker down gracefully on command, and the other keeps running', async () => {
    const [first, second] = [await startWorker(), await startWorker()];
    const app = await startApi();
    const res = (await control(app, { command: 'shutdown', workers: [first.id], timeoutMs: 10_000 })).json();
    expect(res.replies).toMatchObject([{ worker: first.id, ok: true }]);
    await first.waitUntilClosed();
    const ids = (await app.inject('/v1/workers')).json().workers.map((worker: { id: string }) => worker.id);
    expect(ids).toEqual([second.id]);
    expect(await (await client().enqueue(tick, { n: 7 })).result({ timeoutMs: 10_000 })).toBe(7);
  });

  it('pauses consuming: a job stays queued while paused, and runs after resume', async () => {
    const worker = await startWorker();
    const app = await startApi();
    const paused = (await control(app, { command: 'pause', timeoutMs: 10_000 })).json();
    expect(paused.replies).toMatchObject([{ worker: worker.id, ok: true, result: { paused: true } }]);
    const job = await client().enqueue(tick, { n: 3 });
    // Any worker that fetched it would finish it in milliseconds; it must still wait a generous while later.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await job.state()).toBe(JobState.Queued);
    expect((await app.inject('/v1/workers')).json().workers[0].paused).toBe(true);
    const resumed = (await control(app, { command: 'resume', timeoutMs: 10_000 })).json();
    expect(resumed.replies).toMatchObject([{ ok: true, result: { paused: false } }]);
    expect(await job.result({ timeoutMs: 10_000 })).toBe(3);
  });

  it('changes concurrency at runtime: more jobs run at once right away', async () => {
    closeGate();
    await startWorker({ concurrency: 1 });
    const app = await startApi();
    const jobs = await Promise.all([1, 2, 3].map((n) => client().enqueue(hold, { n })));
    await pollUntil(() => (gate.running === 1 ? true : undefined));
    const changed = (await control(app, { command: 'set-concurrency', args: { concurrency: 3 }, timeoutMs: 10_000 })).json();
    expect(changed.replies).toMatchObject([{ ok: true, result: { concurrency: 3 } }]);
    // The three run together while the first is still held: the new limit took effect without a job finishing.
    await pollUntil(() => (gate.running === 3 ? true : undefined));
    expect((await app.inject('/v1/workers')).json().workers[0].concurrency).toBe(3);
    gate.release();
    expect(await Promise.all(jobs.map((job) => job.result({ timeoutMs: 10_000 })))).toEqual([1, 2, 3]);
  });

  it("changes a task's rate limit at runtime, and restores the declared one", async () => {
    await startWorker({ concurrency: 4 });
    const app = await startApi();
    const sdk = client();
    const set = (await control(app, { command: 'set-rate-limit', args: { task: 'tick', rateLimit: '1/h' }, timeoutMs: 10_000 })).json();
    expect(set.replies).toMatchObject([{ ok: true, result: { rateLimits: { tick: { limit: 1, perMs: 3_600_000 } } } }]);
    const limited = await Promise.all([1, 2, 3, 4].map((n) => sdk.enqueue(tick, { n })));
    await pollUntil(async () => ((await Promise.all(limited.map((job) => job.state()))).includes(JobState.Succeeded) ? true : undefined));
    // One start per hour: the others went back to wait (no attempt spent). A generous window for any late start.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const states = await Promise.all(limited.map((job) => job.state()));
    expect(states.filter((state) => state === JobState.Succeeded)).toHaveLength(1);
    expect(states.filter((state) => state === JobState.Scheduled || state === JobState.Retrying)).toHaveLength(3);
    const restored = (await control(app, { command: 'set-rate-limit', args: { task: 'tick', rateLimit: null }, timeoutMs: 10_000 })).json();
    expect(restored.replies).toMatchObject([{ ok: true, result: { rateLimits: {} } }]);
    const free = await Promise.all([5, 6, 7].map((n) => sdk.enqueue(tick, { n })));
    expect(await Promise.all(free.map((job) => job.result({ timeoutMs: 10_000 })))).toEqual([5, 6, 7]);
    const unknown = (await control(app, { command: 'set-rate-limit', args: { task: 'nope', rateLimit: '1/s' }, timeoutMs: 10_000 })).json();
    expect(unknown.replies).toMatchObject([{ ok: false, error: { code: 'CELERIAC_TASK_NOT_FOUND' } }]);
  });
});
