import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, TaskFailure, defineTask, f32Array, toCatalogueEntry, type WorkerInfo } from '@celeriac/core';
import type { Broker } from '@celeriac/broker';
import { useTestRedis } from '@celeriac/testing';
import { createApiServer, type ApiOptions } from '@celeriac/api';
import { add } from './fixtures/api-fixtures.js';

const redis = useTestRedis();

const echo = defineTask({ name: 'echo', queue: 'other', input: z.object({ text: z.string() }), output: z.string(), handler: ({ text }) => text });
const scale = defineTask({ name: 'scale', input: z.object({ v: f32Array() }), output: z.number(), handler: () => 0 });

/** An API on this test's prefix, with the tasks published as a worker would publish them. */
async function startApi(options: Partial<ApiOptions> = {}): Promise<{ app: FastifyInstance; broker: Broker }> {
  const broker = redis.createBroker();
  await broker.publishCatalogue([add, echo, scale].map(toCatalogueEntry));
  const app = redis.track(await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false, ...options }));
  return { app, broker };
}

const post = (app: FastifyInstance, url: string, payload?: unknown) =>
  app.inject({
    method: 'POST',
    url,
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } }),
  });

const submit = async (app: FastifyInstance, url: string, body: unknown): Promise<string> => {
  const res = await post(app, url, body);
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
};

/** Fails every job of `queue` through a real consumer, and resolves once `ids` have all failed. */
async function failJobs(broker: Broker, queue: string, count: number): Promise<void> {
  let failed = 0;
  let done: () => void = () => {};
  const allFailed = new Promise<void>((resolve) => (done = resolve));
  const consumer = await broker.consume(
    async () => {
      if (++failed >= count) setTimeout(done, 100);
      throw TaskFailure.nonRetryable('boom');
    },
    { queues: [queue], concurrency: 4, leaseMs: 5_000, maxLostAttempts: 1 },
  );
  await allFailed;
  await consumer.close(1_000);
}

describe('operator routes: bulk submission', () => {
  it('creates every job of a bulk request, in order, across tasks and queues', async () => {
    const { app } = await startApi();
    const res = await post(app, '/v1/jobs:bulk', {
      jobs: [
        { task: 'add', input: { x: 1, y: 2 } },
        { task: 'echo', input: { text: 'hi' }, options: { delay: '1m', priority: 3 } },
        { task: 'add', input: { x: 3, y: 4 }, options: { jobId: 'bulk-3', attempts: 2 } },
        { task: 'scale', input: { v: Buffer.from(new Float32Array([1, 2]).buffer).toString('base64') } },
      ],
    });
    expect(res.statusCode).toBe(201);
    const { jobs } = res.json();
    expect(jobs.map((job: { state: string }) => job.state)).toEqual(['queued', 'scheduled', 'queued', 'queued']);
    expect(jobs[2].id).toBe('bulk-3');
    const second = (await app.inject(`/v1/jobs/${jobs[1].id}`)).json();
    expect(second).toMatchObject({ task: 'echo', queue: 'other', priority: 3, input: { text: 'hi' } });
    expect((await app.inject('/v1/jobs/bulk-3')).json()).toMatchObject({ input: { x: 3, y: 4 }, attempts: { max: 2 } });
    // The typed array went in as a binary blob and reads back as the same base64.
    expect((await app.inject(`/v1/jobs/${jobs[3].id}`)).json().input.v).toBe(Buffer.from(new Float32Array([1, 2]).buffer).toString('base64'));
  });

  it('writes nothing when one job is invalid, and names every bad job', async () => {
    const { app } = await startApi();
    const res = await post(app, '/v1/jobs:bulk', {
      jobs: [{ task: 'add', input: { x: 1, y: 2 } }, { task: 'add', input: { x: 'one', y: 2 } }, { task: 'echo', input: {} }],
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body.jobs.1.input.x', 'body.jobs.2.input.text']);
    expect((await app.inject('/v1/jobs')).json().jobs).toEqual([]);
  });

  it('rejects an unknown task (404), bad options (400) and too many jobs (400, api.maxBulkJobs)', async () => {
    const { app } = await startApi({ maxBulkJobs: 3 });
    const unknown = await post(app, '/v1/jobs:bulk', { jobs: [{ task: 'add', input: { x: 1, y: 1 } }, { task: 'nope', input: {} }] });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe(ErrorCode.TaskNotFound);
    const badOption = await post(app, '/v1/jobs:bulk', { jobs: [{ task: 'add', input: { x: 1, y: 1 }, options: { delay: 'soon' } }] });
    expect(badOption.statusCode).toBe(400);
    expect(badOption.json().error.message).toContain('body.jobs.0.options.delay');
    const tooMany = await post(app, '/v1/jobs:bulk', { jobs: Array.from({ length: 4 }, () => ({ task: 'add', input: { x: 1, y: 1 } })) });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.message).toContain('maxBulkJobs');
    const empty = await post(app, '/v1/jobs:bulk', { jobs: [] });
    expect(empty.statusCode).toBe(400);
    expect((await app.inject('/v1/jobs')).json().jobs).toEqual([]);
  });
});

describe('operator routes: job listing', () => {
  it('pages through every job, newest first, without repeats or gaps', async () => {
    const { app } = await startApi();
    const ids: string[] = [];
    for (let batch = 0; batch < 3; batch++) {
      const res = await post(app, '/v1/jobs:bulk', { jobs: Array.from({ length: 9 }, (_, i) => ({ task: 'add', input: { x: batch, y: i } })) });
      ids.push(...res.json().jobs.map((job: { id: string }) => job.id));
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct creation times between batches
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await app.inject(`/v1/jobs?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      expect(page.jobs.length).toBeLessThanOrEqual(10);
      seen.push(...page.jobs.map((job: { id: string }) => job.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(27);
    expect([...seen].sort()).toEqual([...ids].sort());
    const times = await Promise.all(seen.map(async (id) => Date.parse((await app.inject(`/v1/jobs/${id}`)).json().createdAt)));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('filters by state, queue, task and creation time', async () => {
    const { app, broker } = await startApi();
    const before = new Date(Date.now() - 1).toISOString();
    const addId = await submit(app, '/v1/tasks/add', { x: 1, y: 1 });
    const echoId = await submit(app, '/v1/tasks/echo', { text: 'a' });
    const delayedId = await submit(app, '/v1/tasks/add?delay=1m', { x: 2, y: 2 });
    const cancelledId = await submit(app, '/v1/tasks/add?delay=1m', { x: 3, y: 3 });
    await post(app, `/v1/jobs/${cancelledId}/cancel`);
    const failedId = await submit(app, '/v1/tasks/echo', { text: 'fails' });
    await failJobs(broker, 'other', 2);
    const list = async (query: string) => {
      const res = await app.inject(`/v1/jobs?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().jobs.map((job: { id: string }) => job.id).sort();
    };
    expect(await list('state=queued')).toEqual([addId].sort());
    expect(await list('state=scheduled')).toEqual([delayedId]);
    expect(await list('state=cancelled')).toEqual([cancelledId]);
    expect(await list('state=failed')).toEqual([echoId, failedId].sort());
    expect(await list('state=queued,scheduled')).toEqual([addId, delayedId].sort());
    expect(await list('queue=other')).toEqual([echoId, failedId].sort());
    expect(await list('task=add')).toEqual([addId, delayedId, cancelledId].sort());
    expect(await list(`createdAfter=${encodeURIComponent(before)}`)).toHaveLength(5);
    expect(await list(`createdBefore=${encodeURIComponent(before)}`)).toEqual([]);
    const failed = (await app.inject('/v1/jobs?state=failed&limit=1')).json();
    expect(failed.jobs[0]).toMatchObject({ state: 'failed', queue: 'other', error: { code: ErrorCode.TaskFailed } });
    expect(failed.nextCursor).toBeTypeOf('string');
  });

  it('rejects a bad state, a bad limit and a forged cursor with 400', async () => {
    const { app } = await startApi();
    for (const query of ['state=sleeping', 'limit=0', 'limit=501', 'cursor=not-a-cursor', 'createdAfter=yesterday']) {
      const res = await app.inject(`/v1/jobs?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe(ErrorCode.InvalidRequest);
    }
  });
});

describe('operator routes: retry', () => {
  it('retries a failed job, keeping its attempt history', async () => {
    const { app, broker } = await startApi();
    const id = await submit(app, '/v1/tasks/echo', { text: 'x' });
    await failJobs(broker, 'other', 1);
    const retried = await post(app, `/v1/jobs/${id}/retry`);
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toEqual({ id, state: 'queued', previousState: 'failed' });
    const job = (await app.inject(`/v1/jobs/${id}`)).json();
    expect(job.state).toBe('queued');
    expect(job.history).toMatchObject([{ attempt: 1, outcome: 'failed' }]);
    expect(job.error).toBeUndefined();
  });

  it('retries a job cancelled before it ran, with its input', async () => {
    const { app } = await startApi();
    const id = await submit(app, '/v1/tasks/add?delay=1m&priority=5', { x: 4, y: 5 });
    await post(app, `/v1/jobs/${id}/cancel`);
    expect((await post(app, `/v1/jobs/${id}/retry`)).json()).toEqual({ id, state: 'queued', previousState: 'cancelled' });
    expect((await app.inject(`/v1/jobs/${id}`)).json()).toMatchObject({ id, state: 'queued', input: { x: 4, y: 5 }, priority: 5 });
    expect((await app.inject('/v1/jobs?state=cancelled')).json().jobs).toEqual([]);
  });

  it('answers 409 for a job that is not failed or cancelled, and 404 for an unknown one', async () => {
    const { app } = await startApi();
    const id = await submit(app, '/v1/tasks/add', { x: 1, y: 1 });
    const conflict = await post(app, `/v1/jobs/${id}/retry`);
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toMatchObject({ code: ErrorCode.JobNotRetryable, details: { state: 'queued' } });
    const missing = await post(app, '/v1/jobs/nope/retry');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe(ErrorCode.JobNotFound);
  });
});

describe('operator routes: queues', () => {
  it('counts jobs by state per queue', async () => {
    const { app } = await startApi();
    await submit(app, '/v1/tasks/add', { x: 1, y: 1 });
    await submit(app, '/v1/tasks/add', { x: 1, y: 2 });
    await submit(app, '/v1/tasks/add?delay=1m', { x: 1, y: 3 });
    await submit(app, '/v1/tasks/echo', { text: 'a' });
    const { queues } = (await app.inject('/v1/queues')).json();
    expect(queues).toEqual([
      { name: 'default', paused: false, counts: { queued: 2, delayed: 1, active: 0, succeeded: 0, failed: 0 } },
      { name: 'other', paused: false, counts: { queued: 1, delayed: 0, active: 0, succeeded: 0, failed: 0 } },
    ]);
    expect((await app.inject('/v1/queues/other')).json().counts.queued).toBe(1);
    expect((await app.inject('/v1/queues/missing')).statusCode).toBe(404);
  });

  it('pauses and resumes a queue', async () => {
    const { app } = await startApi();
    await submit(app, '/v1/tasks/add', { x: 1, y: 1 });
    const paused = await post(app, '/v1/queues/default/pause');
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ name: 'default', paused: true, counts: { queued: 1 } });
    expect((await app.inject('/v1/queues/default')).json().paused).toBe(true);
    expect((await post(app, '/v1/queues/default/resume')).json()).toMatchObject({ paused: false, counts: { queued: 1 } });
    const unknown = await post(app, '/v1/queues/missing/pause');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe(ErrorCode.QueueNotFound);
  });

  it('drains waiting and delayed jobs only when confirmed', async () => {
    const { app } = await startApi();
    await submit(app, '/v1/tasks/add', { x: 1, y: 1 });
    await submit(app, '/v1/tasks/add', { x: 1, y: 2 });
    await submit(app, '/v1/tasks/add?delay=1m', { x: 1, y: 3 });
    const unconfirmed = await post(app, '/v1/queues/default/drain', {});
    expect(unconfirmed.statusCode).toBe(400);
    expect(unconfirmed.json().error.message).toContain('"confirm": true');
    expect((await app.inject('/v1/queues/default')).json().counts).toMatchObject({ queued: 2, delayed: 1 });
    const waitingOnly = await post(app, '/v1/queues/default/drain', { confirm: true, delayed: false });
    expect(waitingOnly.json()).toEqual({ queue: 'default', removed: 2 });
    expect((await app.inject('/v1/queues/default')).json().counts).toMatchObject({ queued: 0, delayed: 1 });
    expect((await post(app, '/v1/queues/default/drain', { confirm: true })).json()).toEqual({ queue: 'default', removed: 1 });
    expect((await app.inject('/v1/queues/default')).json().counts).toMatchObject({ queued: 0, delayed: 0 });
  });
});

describe('operator routes: workers', () => {
  it('lists live workers with their current jobs and heartbeat age', async () => {
    const { app, broker } = await startApi();
    expect((await app.inject('/v1/workers')).json()).toEqual({ workers: [] });
    const info: WorkerInfo = {
      id: 'w-1',
      hostname: 'h',
      pid: 1,
      queues: ['default'],
      tasks: ['add'],
      concurrency: 4,
      startedAtMs: Date.now() - 10_000,
      heartbeatAtMs: Date.now() - 50,
      capabilities: { cpuSlots: 8 },
      activeJobs: ['job-1'],
      paused: false,
    };
    await broker.heartbeat(info, 10_000);
    const { workers } = (await app.inject('/v1/workers')).json();
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ id: 'w-1', queues: ['default'], concurrency: 4, activeJobs: ['job-1'], capabilities: { cpuSlots: 8 } });
    expect(workers[0].heartbeatAgeMs).toBeGreaterThanOrEqual(50);
    // A queue only a worker consumes is a known queue too.
    expect((await app.inject('/v1/queues')).json().queues.map((q: { name: string }) => q.name)).toEqual(['default']);
  });

  it('sends control commands: with no live worker nobody is missing; an addressed silent worker is', async () => {
    const { app } = await startApi();
    const ping = await app.inject('/v1/workers/ping?timeoutMs=200');
    expect(ping.statusCode).toBe(200);
    expect(ping.json()).toMatchObject({ command: 'ping', replies: [], missing: [] });
    const started = Date.now();
    const targeted = await post(app, '/v1/workers/control', { command: 'pause', workers: ['ghost'], timeoutMs: 200 });
    expect(targeted.json()).toMatchObject({ command: 'pause', replies: [], missing: ['ghost'] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('rejects malformed control commands with 400', async () => {
    const { app } = await startApi();
    for (const body of [
      { command: 'explode' },
      { command: 'set-concurrency' },
      { command: 'set-concurrency', args: { concurrency: 0 } },
      { command: 'set-rate-limit', args: { task: 'add', rateLimit: 'fast' } },
      { command: 'ping', args: { extra: 1 } },
      { command: 'ping', timeoutMs: 60_000 },
    ]) {
      const res = await post(app, '/v1/workers/control', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe(ErrorCode.InvalidRequest);
    }
  });
});

describe('operator routes: OpenAPI and scopes', () => {
  it('documents every operator route with its scope', async () => {
    const { app } = await startApi();
    const { paths } = (await app.inject('/docs/json')).json();
    for (const [path, method] of [
      ['/v1/jobs:bulk', 'post'],
      ['/v1/jobs', 'get'],
      ['/v1/jobs/{id}/retry', 'post'],
      ['/v1/queues', 'get'],
      ['/v1/queues/{name}', 'get'],
      ['/v1/queues/{name}/pause', 'post'],
      ['/v1/queues/{name}/resume', 'post'],
      ['/v1/queues/{name}/drain', 'post'],
      ['/v1/workers', 'get'],
      ['/v1/workers/ping', 'get'],
      ['/v1/workers/control', 'post'],
    ] as const) {
      expect(paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
  });
});
