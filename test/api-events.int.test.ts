import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, defineTask, toCatalogueEntry } from '@celeriac/core';
import { createApiServer } from '@celeriac/api';
import { createClient } from '@celeriac/client';
import { listClientNames } from '@celeriac/redis';
import { createWorker } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { openSse, type ReceivedSseEvent } from './fixtures/sse-client.js';
import { pollUntil } from './fixtures/poll-until.js';

const redis = useTestRedis();

const report = defineTask({
  name: 'report',
  input: z.object({ steps: z.number() }),
  output: z.string(),
  isolation: 'inline',
  handler: async ({ steps }, ctx) => {
    for (let step = 1; step <= steps; step++) await ctx.progress({ step, of: steps });
    await ctx.log(`finished ${steps} steps`);
    return 'done';
  },
});

const other = defineTask({
  name: 'other',
  queue: 'side',
  input: z.object({}),
  output: z.number(),
  isolation: 'inline',
  handler: () => 1,
});

/** A listening API on this test's prefix (auth off: the auth helper's tests cover keys), and its base URL. */
async function startApi(): Promise<{ app: FastifyInstance; base: string }> {
  await redis.createBroker().publishCatalogue([toCatalogueEntry(report), toCatalogueEntry(other)]);
  const app = redis.track(await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base: address };
}

async function startWorker() {
  const worker = redis.track(
    createWorker({ tasks: [report, other], queues: ['default', 'side'], connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }) }),
  );
  await worker.start();
  return worker;
}

const client = () => redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
const isEnd = (event: ReceivedSseEvent) => event.event === 'end';
/** This test's connections to Redis, by name. */
const connectionsOfTest = async () => (await listClientNames(redis.url)).filter((name) => name.includes(redis.prefix));

describe('GET /v1/jobs/:id/events', () => {
  it('streams a job from queued to succeeded, with its progress and log line, then ends', async () => {
    const { base } = await startApi();
    const job = await client().enqueue(report, { steps: 2 });
    const sse = await openSse(`${base}/v1/jobs/${job.id}/events`);
    expect(sse.response.status).toBe(200);
    expect(sse.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const first = await sse.next();
    expect(first).toEqual({ event: 'state', data: expect.objectContaining({ id: job.id, task: 'report', queue: 'default', state: 'queued', snapshot: true }) });
    expect(first.id).toBeUndefined(); // a snapshot is not a position in the stream: a reconnect must not resume after it

    await startWorker();
    const events = await sse.collect(isEnd);
    const summary = events.map((event) =>
      event.event === 'state' ? `state:${String(event.data['state'])}` : event.event === 'progress' ? `progress:${JSON.stringify(event.data['progress'])}` : event.event === 'log' ? `log:${String(event.data['line'])}` : event.event,
    );
    expect(summary).toEqual([
      'state:active',
      'progress:{"step":1,"of":2}',
      'progress:{"step":2,"of":2}',
      'log:finished 2 steps',
      'state:succeeded',
      'end',
    ]);
    for (const event of events.slice(0, -1)) {
      expect(event.id).toMatch(/^\d+-\d+@default$/);
      expect(event.data).toMatchObject({ id: job.id, queue: 'default', task: 'report', atMs: expect.any(Number) });
    }
    expect(events.at(-1)?.data).toEqual({ id: job.id, state: 'succeeded' });
    await pollUntil(() => (sse.ended ? true : undefined));
  });

  it('gives a late subscriber the final state, progress and logs at once, and ends', async () => {
    const { app } = await startApi();
    await startWorker();
    const job = await client().enqueue(report, { steps: 1 });
    await job.result({ timeoutMs: 10_000 });
    // The stream ends by itself, so inject (which waits for the end) reads it whole.
    const res = await app.inject(`/v1/jobs/${job.id}/events`);
    expect(res.statusCode).toBe(200);
    const blocks = res.payload.split('\n\n').filter((block) => block.startsWith('event:'));
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('event: state');
    expect(JSON.parse(blocks[0]!.split('data: ')[1]!)).toMatchObject({
      state: 'succeeded',
      snapshot: true,
      progress: { step: 1, of: 1 },
      logs: ['finished 1 steps'],
    });
    expect(blocks[1]).toBe(`event: end\ndata: ${JSON.stringify({ id: job.id, state: 'succeeded' })}`);
  });

  it('ends with cancelled when a waiting job is cancelled', async () => {
    const { base, app } = await startApi();
    const job = await client().enqueue(report, { steps: 1 }, { delay: 60_000 });
    const sse = await openSse(`${base}/v1/jobs/${job.id}/events`);
    expect((await sse.next()).data).toMatchObject({ state: 'scheduled', snapshot: true });
    expect((await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel` })).json().outcome).toBe('cancelled');
    const events = await sse.collect(isEnd);
    expect(events.map((event) => [event.event, event.data['state']])).toEqual([
      ['state', 'cancelled'],
      ['end', 'cancelled'],
    ]);
  });

  it('answers 404 as JSON for an unknown job, and 400 for a malformed Last-Event-ID', async () => {
    const { app } = await startApi();
    const missing = await app.inject('/v1/jobs/nope/events');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe(ErrorCode.JobNotFound);
    const job = await client().enqueue(report, { steps: 1 });
    const bad = await app.inject({ url: `/v1/jobs/${job.id}/events`, headers: { 'last-event-id': 'yesterday' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe(ErrorCode.InvalidRequest);
  });

  it('releases its Redis connection when the client disconnects', async () => {
    const { base } = await startApi();
    const job = await client().enqueue(report, { steps: 1 }); // never runs: no worker
    await pollUntil(async () => ((await connectionsOfTest()).length > 0 ? true : undefined));
    const before = (await connectionsOfTest()).length;
    const sse = await openSse(`${base}/v1/jobs/${job.id}/events`);
    expect((await sse.next()).data['state']).toBe('queued');
    // The subscription holds one blocking connection of its own while the client listens.
    await pollUntil(async () => ((await connectionsOfTest()).length === before + 1 ? true : undefined));
    sse.close();
    await pollUntil(async () => ((await connectionsOfTest()).length === before ? true : undefined), 5_000);
  });
});

describe('GET /v1/events (firehose)', () => {
  it('filters by task and by queue, and resumes after Last-Event-ID', async () => {
    const { base } = await startApi();
    const byTask = await openSse(`${base}/v1/events?task=other`);
    const byQueue = await openSse(`${base}/v1/events?queue=default`);
    const all = await openSse(`${base}/v1/events`);
    const c = client();
    const reportJob = await c.enqueue(report, { steps: 1 });
    const otherJob = await c.enqueue(other, {});
    await startWorker();
    await Promise.all([reportJob.result({ timeoutMs: 10_000 }), otherJob.result({ timeoutMs: 10_000 })]);

    const succeeded = (id: string) => (event: ReceivedSseEvent) => event.event === 'state' && event.data['id'] === id && event.data['state'] === 'succeeded';
    const taskEvents = await byTask.collect(succeeded(otherJob.id));
    expect(new Set(taskEvents.map((event) => event.data['task']))).toEqual(new Set(['other']));
    expect(taskEvents.map((event) => event.data['state'] ?? event.event)).toEqual(['queued', 'active', 'succeeded']);

    const queueEvents = await byQueue.collect(succeeded(reportJob.id));
    expect(new Set(queueEvents.map((event) => event.data['queue']))).toEqual(new Set(['default']));
    expect(queueEvents.map((event) => event.event)).toEqual(['state', 'state', 'progress', 'log', 'state']);

    const everything = await all.collect((event) => succeeded(reportJob.id)(event) || succeeded(otherJob.id)(event));
    const rest = await all.collect((event) => succeeded(reportJob.id)(event) || succeeded(otherJob.id)(event));
    const seen = [...everything, ...rest];
    expect(new Set(seen.map((event) => event.data['id']))).toEqual(new Set([reportJob.id, otherJob.id]));
    for (const sse of [byTask, byQueue, all]) sse.close();

    // Resume after the first event: the replay is everything after it, in the same order, with the same ids.
    const resumed = await openSse(`${base}/v1/events`, { 'last-event-id': seen[0]!.id! });
    const replay = await resumed.collect((event) => event.id === seen.at(-1)!.id);
    expect(replay.map((event) => event.id)).toEqual(seen.slice(1).map((event) => event.id));
    resumed.close();
  });

  it('ends every open stream when the server closes, so close() does not wait on them', async () => {
    const { app, base } = await startApi();
    const sse = await openSse(`${base}/v1/events`);
    const startedMs = Date.now();
    await app.close();
    expect(Date.now() - startedMs).toBeLessThan(3_000);
    await pollUntil(() => (sse.ended ? true : undefined), 2_000);
  });
});
