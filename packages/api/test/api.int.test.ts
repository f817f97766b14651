import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, toCatalogueEntry } from '@celeriac/core';
import { spawnRedisServer } from '@celeriac/redis';
import { useTestRedis } from '@celeriac/testing';
import { createApiServer, type ApiOptions } from '@celeriac/api';
import { add, postJson } from './fixtures/api-fixtures.js';

const redis = useTestRedis();

/** An API on this test's prefix, with `add` published as a worker would publish it. */
async function startApi(options: Partial<ApiOptions> = {}): Promise<FastifyInstance> {
  await redis.createBroker().publishCatalogue([toCatalogueEntry(add)]);
  return redis.track(await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false, ...options }));
}

describe('HTTP API', () => {
  it('answers liveness and readiness', async () => {
    const app = await startApi();
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  it('lists the published catalogue with JSON Schemas', async () => {
    const app = await startApi();
    const { tasks } = (await app.inject('/v1/tasks')).json();
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ name: 'add', queue: 'default', inputSchema: { type: 'object', required: ['x', 'y'] } });
    expect((await app.inject('/v1/tasks/add')).json()).toMatchObject({ name: 'add' });
  });

  it('submits a job (201 with id, state and Location) that reads back by id', async () => {
    const app = await startApi();
    const submitted = await postJson(app, '/v1/tasks/add', { x: 2, y: 3 });
    expect(submitted.statusCode).toBe(201);
    const { id, state } = submitted.json();
    expect(state).toBe('queued');
    expect(submitted.headers.location).toBe(`/v1/jobs/${id}`);
    const job = await app.inject(`/v1/jobs/${id}`);
    expect(job.statusCode).toBe(200);
    expect(job.json()).toMatchObject({ id, task: 'add', queue: 'default', state: 'queued', input: { x: 2, y: 3 } });
  });

  it('takes per-call options from the query string', async () => {
    const app = await startApi();
    const first = await postJson(app, '/v1/tasks/add?jobId=order-7&delay=30s&priority=3', { x: 1, y: 1 });
    expect(first.json()).toMatchObject({ id: 'order-7', state: 'scheduled' });
    const again = await postJson(app, '/v1/tasks/add?jobId=order-7', { x: 9, y: 9 });
    expect(again.json()).toMatchObject({ id: 'order-7', state: 'scheduled' });
    const bad = await postJson(app, '/v1/tasks/add?jobId=42', { x: 1, y: 1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe(ErrorCode.InvalidRequest);
    expect(bad.json().error.message).toContain('query.jobId');
  });

  it('takes retry, expiry, ETA and dedupe options from the query string', async () => {
    const app = await startApi();
    const eta = new Date(Date.now() + 60_000).toISOString();
    const first = await postJson(app, `/v1/tasks/add?eta=${encodeURIComponent(eta)}&expires=2h&attempts=3&dedupeKey=k1`, { x: 1, y: 1 });
    expect(first.statusCode).toBe(201);
    expect(first.json().state).toBe('scheduled');
    const job = (await app.inject(`/v1/jobs/${first.json().id}`)).json();
    expect(job.attempts).toEqual({ made: 0, max: 3 });
    // The ETA becomes a delay from the client's clock; BullMQ stamps the job a few ms later. Tolerance: 100 ms.
    expect(Math.abs(Date.parse(job.runAt) - Date.parse(eta))).toBeLessThan(100);
    const again = await postJson(app, '/v1/tasks/add?dedupeKey=k1', { x: 2, y: 2 });
    expect(again.json().id).toBe(first.json().id);
    const bad = await postJson(app, '/v1/tasks/add?attempts=0', { x: 1, y: 1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('query.retry.attempts');
  });

  it('cancels a scheduled job', async () => {
    const app = await startApi();
    const { id } = (await postJson(app, '/v1/tasks/add?delay=60000', { x: 1, y: 1 })).json();
    const cancelled = await app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    expect(cancelled.json()).toEqual({ id, outcome: 'cancelled' });
    expect((await app.inject(`/v1/jobs/${id}`)).json().state).toBe('cancelled');
  });

  describe('bad input gets the exact status and code', () => {
    it('malformed JSON → 400 CELERIAC_INVALID_REQUEST', async () => {
      const app = await startApi();
      const res = await app.inject({ method: 'POST', url: '/v1/tasks/add', payload: '{"x": 1,', headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe(ErrorCode.InvalidRequest);
    });

    it('a schema violation → 400 CELERIAC_INVALID_INPUT with field paths', async () => {
      const app = await startApi();
      const res = await postJson(app, '/v1/tasks/add', { x: 'one' });
      expect(res.statusCode).toBe(400);
      const { error } = res.json();
      expect(error.code).toBe(ErrorCode.InvalidInput);
      expect(error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body.x', 'body.y']);
    });

    it('an unknown task → 404 CELERIAC_TASK_NOT_FOUND', async () => {
      const app = await startApi();
      const res = await postJson(app, '/v1/tasks/multiply', { x: 1, y: 2 });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe(ErrorCode.TaskNotFound);
    });

    it('an invalid task name → 400 CELERIAC_INVALID_REQUEST', async () => {
      const app = await startApi();
      const res = await postJson(app, '/v1/tasks/Not%20A%20Name', {});
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe(ErrorCode.InvalidRequest);
    });

    it('an unknown job id → 404 CELERIAC_JOB_NOT_FOUND', async () => {
      const app = await startApi();
      const res = await app.inject('/v1/jobs/no-such-job');
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe(ErrorCode.JobNotFound);
    });

    it('an oversized body → 413 CELERIAC_PAYLOAD_TOO_LARGE', async () => {
      const app = await startApi({ bodyLimitBytes: 4_096 });
      const res = await postJson(app, '/v1/tasks/add', { x: 1, y: 2, padding: 'p'.repeat(8_192) });
      expect(res.statusCode).toBe(413);
      expect(res.json().error.code).toBe(ErrorCode.PayloadTooLarge);
    });

    it('a body that is not JSON → 415 CELERIAC_UNSUPPORTED_MEDIA_TYPE', async () => {
      const app = await startApi();
      const res = await app.inject({ method: 'POST', url: '/v1/tasks/add', payload: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.statusCode).toBe(415);
      expect(res.json().error.code).toBe(ErrorCode.UnsupportedMediaType);
    });

    it('an unknown route → 404 CELERIAC_ROUTE_NOT_FOUND', async () => {
      const app = await startApi();
      const res = await app.inject('/v2/anything');
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe(ErrorCode.RouteNotFound);
    });
  });

  it('answers 503 fast when Redis is down: /readyz and submit', async () => {
    const doomed = await spawnRedisServer();
    await doomed.stop();
    const app = redis.track(await createApiServer({ connection: doomed.url, prefix: redis.prefix, logger: false, auth: false, redisTimeout: '500ms' }));
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.code).toBe(ErrorCode.BrokerUnavailable);
    const submit = await postJson(app, '/v1/tasks/add', { x: 1, y: 2 });
    expect(submit.statusCode).toBe(503);
    expect(submit.json().error.code).toBe(ErrorCode.BrokerUnavailable);
  });

  it('serves the OpenAPI document and the interactive docs', async () => {
    const app = await startApi();
    const doc = (await app.inject('/docs/json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/v1/tasks', '/v1/tasks/{name}', '/v1/jobs/{id}', '/v1/jobs/{id}/cancel']),
    );
    const ui = await app.inject('/docs/');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });

  it('refuses bad options, naming the field', async () => {
    await expect(createApiServer({ bodyLimitBytes: 10, logger: false })).rejects.toThrow('api.bodyLimitBytes');
    await expect(createApiServer({ redisTimeout: 'fast' as '1s', logger: false })).rejects.toThrow('api.redisTimeout');
  });

  it('works over a real socket', async () => {
    const app = await startApi();
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const submitted = await fetch(`${base}/v1/tasks/add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ x: 4, y: 5 }),
    });
    expect(submitted.status).toBe(201);
    const { id } = (await submitted.json()) as { id: string };
    const job = await fetch(`${base}/v1/jobs/${id}`);
    expect(await job.json()).toMatchObject({ id, input: { x: 4, y: 5 } });
  });
});
