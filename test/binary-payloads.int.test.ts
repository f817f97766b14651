import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, JobState, defineTask, f32Array, isCeleriacError, u8Array } from '@celeriac/core';
import { createClient } from '@celeriac/client';
import { createWorker, loadTaskModule } from '@celeriac/worker';
import { createApiServer } from '@celeriac/api';
import { useTestRedis } from '@celeriac/testing';
import { base64, fromBase64 } from './fixtures/base64.js';
import { errorOf } from './fixtures/error-of.js';
import { waitUntil } from './fixtures/poll-until.js';

const redis = useTestRedis();
const tasksModule = new URL('./fixtures/binary-tasks.js', import.meta.url);

/** A worker running the fixture's tasks in sandbox threads, so typed arrays cross a thread boundary both ways. */
async function startSandboxWorker() {
  const tasks = await loadTaskModule(tasksModule);
  const worker = redis.track(
    createWorker({ tasks, tasksModule, sandboxThreads: 1, connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }) }),
  );
  await worker.start();
  return worker;
}

const client = () => redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));

function ramp(length: number): Float32Array {
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) values[i] = i / 3;
  return values;
}

describe('typed arrays end to end', () => {
  it('a sandboxed handler receives a Float32Array, and the SDK gets a Float32Array back', async () => {
    await startSandboxWorker();
    const values = ramp(1_000_000); // 4 MB
    const job = await client().enqueueByName('scale', { values, factor: 2 });
    const result = (await job.result({ timeoutMs: 20_000 })) as { scaled: Float32Array; receivedAs: string };
    expect(result.receivedAs).toBe('[object Float32Array]');
    expect(result.scaled).toBeInstanceOf(Float32Array);
    expect(result.scaled.length).toBe(1_000_000);
    expect(base64(result.scaled)).toBe(base64(values.map((v) => v * 2)));
  });

  it('types and runs a typed task inline, with bytes in and out', async () => {
    const checksum = defineTask({
      name: 'checksum',
      input: z.object({ data: u8Array(), weights: f32Array() }),
      output: z.object({ sum: z.number(), echo: u8Array() }),
      isolation: 'inline',
      handler: ({ data, weights }) => ({ sum: data.reduce((s, b, i) => s + b * (weights[i] ?? 0), 0), echo: data }),
    });
    const worker = redis.track(createWorker({ tasks: [checksum], connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }) }));
    await worker.start();
    const job = await client().enqueue(checksum, { data: Uint8Array.of(1, 2, 3), weights: Float32Array.of(1, 0.5, 2) });
    const result = await job.result({ timeoutMs: 20_000 });
    expect(result).toEqual({ sum: 8, echo: Uint8Array.of(1, 2, 3) });
  });

  it('carries a typed result from one step of a chain into the next', async () => {
    await startSandboxWorker();
    const workflow = await client().workflowByName({
      kind: 'chain',
      steps: [
        { kind: 'task', task: 'scale', input: { values: Float32Array.of(1, 2, 3), factor: 10 } },
        { kind: 'task', task: 'total' },
      ],
    });
    expect(await workflow.result({ timeoutMs: 20_000 })).toBe(60);
  });

  it("hands a chord's callback the typed results of its children", async () => {
    await startSandboxWorker();
    const step = (factor: number) => ({ kind: 'task', task: 'scale', input: { values: Float32Array.of(1, 2), factor } });
    const workflow = await client().workflowByName({ kind: 'chord', header: [step(1), step(10)], callback: { kind: 'task', task: 'totals' } });
    expect(await workflow.result({ timeoutMs: 20_000 })).toBe(33);
  });

  it('runs each firing of a schedule with its typed arrays, and the next one with the new arrays after an update', { timeout: 20_000 }, async () => {
    await startSandboxWorker();
    const sdk = client();
    const firings = async () => {
      const { jobs } = await sdk.listJobs({ task: 'scale', limit: 100 });
      return jobs.filter((job) => job.id.startsWith('repeat:scaled:')).sort((a, b) => a.id.localeCompare(b.id));
    };
    const resultOf = async (id: string) => (await sdk.job<{ scaled: Float32Array; receivedAs: string }>(id).result({ timeoutMs: 10_000 }));
    // The first firing of an interval runs at once.
    const created = await sdk.scheduleByName('scaled', { every: '1s', limit: 2 }, 'scale', { values: ramp(10_000), factor: 2 });
    expect((created.input as { values: unknown }).values).toEqual(ramp(10_000));
    await waitUntil(async () => (await firings()).length >= 1);
    const first = await resultOf((await firings())[0]!.id);
    expect(first.receivedAs).toBe('[object Float32Array]');
    expect(base64(first.scaled)).toBe(base64(ramp(10_000).map((v) => v * 2)));
    const updated = await sdk.scheduleByName('scaled', { every: '1s', limit: 2 }, 'scale', { values: ramp(5), factor: 3 });
    expect(base64(await resultOf(updated.nextJobId!).then((result) => result.scaled))).toBe(base64(ramp(5).map((v) => v * 3)));
    expect(await firings()).toHaveLength(2);
  });

  it('refuses an input past the client maxPayloadBytes, and the client keeps working', async () => {
    const small = redis.track(createClient({ connection: redis.url, prefix: redis.prefix, maxPayloadBytes: 4096 }));
    const error = await errorOf(small.enqueueByName('scale', { values: new Float32Array(4096), factor: 1 }));
    expect(isCeleriacError(error, ErrorCode.PayloadTooLarge)).toBe(true);
    const job = await small.enqueueByName('scale', { values: new Float32Array(16), factor: 1 });
    expect(await job.state()).toBe(JobState.Queued);
  });

  describe('over HTTP', () => {
    async function startApi(): Promise<FastifyInstance> {
      await startSandboxWorker(); // publishes the catalogue
      return redis.track(
        await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false, bodyLimitBytes: 16 * 1024 * 1024 }),
      );
    }

    it('publishes typed-array fields as base64 strings with their dtype', async () => {
      const app = await startApi();
      const entry = (await app.inject('/v1/tasks/scale')).json();
      expect(entry.inputSchema.properties.values).toMatchObject({ type: 'string', contentEncoding: 'base64', 'x-celeriac-dtype': 'float32' });
      expect(entry.outputSchema.properties.scaled).toMatchObject({ type: 'string', 'x-celeriac-dtype': 'float32' });
    });

    it('takes base64 in, runs the task on a Float32Array, and answers the result as base64', async () => {
      const app = await startApi();
      const values = ramp(500_000); // 2 MB, 2.7 MB as base64
      const submitted = await app.inject({
        method: 'POST',
        url: '/v1/tasks/scale',
        payload: JSON.stringify({ values: base64(values), factor: 3 }),
        headers: { 'content-type': 'application/json' },
      });
      expect(submitted.statusCode).toBe(201);
      const { id } = submitted.json();
      await client().job(id).result({ timeoutMs: 20_000 });

      const job = (await app.inject(`/v1/jobs/${id}`)).json();
      expect(job.state).toBe('succeeded');
      expect(job.input.values).toBe(base64(values));
      expect(job.result.receivedAs).toBe('[object Float32Array]');
      expect(typeof job.result.scaled).toBe('string');
      expect(base64(fromBase64(job.result.scaled))).toBe(base64(values.map((v) => v * 3)));
    });

    it('takes base64 in a workflow: a chord of scale jobs, summed by totals', async () => {
      const app = await startApi();
      const header = [ramp(1_000), ramp(3)].map((values) => ({ kind: 'task', task: 'scale', input: { values: base64(values), factor: 2 } }));
      const submitted = await app.inject({
        method: 'POST',
        url: '/v1/workflows',
        payload: JSON.stringify({ kind: 'chord', header, callback: { kind: 'task', task: 'totals' } }),
        headers: { 'content-type': 'application/json' },
      });
      expect(submitted.statusCode).toBe(201);
      const sum = (values: Float32Array) => values.reduce((total, value) => total + value * 2, 0);
      expect(await (await client().openWorkflow<number>(submitted.json().id)).result({ timeoutMs: 20_000 })).toBeCloseTo(sum(ramp(1_000)) + sum(ramp(3)), 3);
      const bad = await app.inject({
        method: 'POST',
        url: '/v1/workflows',
        payload: JSON.stringify({ kind: 'chain', steps: [{ kind: 'task', task: 'scale', input: { values: 'AAE=', factor: 1 } }] }),
        headers: { 'content-type': 'application/json' },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toContain('body.steps.0.input.values has 2 bytes, not a multiple of 4');
    });

    it('takes base64 in a schedule, and answers its input as base64', async () => {
      const app = await startApi();
      const values = base64(ramp(100));
      const put = await app.inject({
        method: 'PUT',
        url: '/v1/schedules/hourly-scale',
        payload: JSON.stringify({ task: 'scale', input: { values, factor: 2 }, every: '1h', startDate: new Date(Date.now() + 3_600_000).toISOString() }),
        headers: { 'content-type': 'application/json' },
      });
      expect(put.statusCode).toBe(200);
      expect(put.json().input).toEqual({ values, factor: 2 });
      expect((await app.inject('/v1/schedules/hourly-scale')).json().input.values).toBe(values);
      expect((await app.inject('/v1/schedules')).json().schedules[0].input.values).toBe(values);
      // The pending firing holds the typed array too: the job route answers it as base64.
      expect((await app.inject(`/v1/jobs/${put.json().nextJobId}`)).json().input.values).toBe(values);
    });

    it('answers 400 naming a field that is not base64, or not whole elements', async () => {
      const app = await startApi();
      const post = (values: string) =>
        app.inject({
          method: 'POST',
          url: '/v1/tasks/scale',
          payload: JSON.stringify({ values, factor: 1 }),
          headers: { 'content-type': 'application/json' },
        });
      const bad = await post('not base64!');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatchObject({ code: ErrorCode.InvalidInput, details: { issues: [{ path: 'body.values' }] } });
      const ragged = await post(Buffer.from([1, 2, 3]).toString('base64'));
      expect(ragged.statusCode).toBe(400);
      expect(ragged.json().error.message).toContain('body.values has 3 bytes, not a multiple of 4');
    });
  });
});
