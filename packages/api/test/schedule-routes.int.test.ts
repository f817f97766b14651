import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, toCatalogueEntry } from '@celeriac/core';
import { useTestRedis } from '@celeriac/testing';
import { createApiServer } from '@celeriac/api';
import { add } from './fixtures/api-fixtures.js';

const redis = useTestRedis();

/** An API on this test's prefix, with `add` published as a worker would publish it. */
async function startApi(): Promise<FastifyInstance> {
  await redis.createBroker().publishCatalogue([toCatalogueEntry(add)]);
  return redis.track(await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false }));
}

const putJson = (app: FastifyInstance, url: string, payload: unknown) =>
  app.inject({ method: 'PUT', url, payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });

describe('schedule routes', () => {
  it('creates, reads, lists, updates and removes a schedule', async () => {
    const app = await startApi();
    const body = { task: 'add', input: { x: 1, y: 2 }, cron: '0 9 * * 1-5', tz: 'Europe/Paris', limit: 10 };
    const created = await putJson(app, '/v1/schedules/weekday-report', body);
    expect(created.statusCode).toBe(200);
    const record = created.json();
    expect(record).toMatchObject({
      id: 'weekday-report',
      task: 'add',
      queue: 'default',
      spec: { cron: '0 9 * * 1-5', tz: 'Europe/Paris', limit: 10 },
      input: { x: 1, y: 2 },
      firedCount: 0,
    });
    // 09:00 in Paris is 07:00 or 08:00 UTC, depending on daylight saving.
    expect(new Date(record.nextRunAt).getUTCHours()).toBeOneOf([7, 8]);
    expect(record.nextJobId).toBe(`repeat:weekday-report:${Date.parse(record.nextRunAt)}`);
    const pending = (await app.inject(`/v1/jobs/${record.nextJobId}`)).json();
    expect(pending).toMatchObject({ state: 'scheduled', input: { x: 1, y: 2 } });

    expect((await app.inject('/v1/schedules/weekday-report')).json()).toEqual(record);
    const updated = await putJson(app, '/v1/schedules/weekday-report', { ...body, input: { x: 5, y: 5 } });
    expect(updated.json()).toMatchObject({ input: { x: 5, y: 5 }, nextJobId: record.nextJobId });
    // The pending firing is the same job, with the new input.
    expect((await app.inject(`/v1/jobs/${record.nextJobId}`)).json()).toMatchObject({ input: { x: 5, y: 5 } });

    await putJson(app, '/v1/schedules/every-minute', { task: 'add', input: { x: 0, y: 0 }, every: '1m' });
    const { schedules } = (await app.inject('/v1/schedules')).json();
    expect(schedules.map((s: { id: string }) => s.id)).toEqual(['every-minute', 'weekday-report']);
    expect(schedules[0]).toMatchObject({ spec: { everyMs: 60_000 } });

    const removed = await app.inject({ method: 'DELETE', url: '/v1/schedules/weekday-report' });
    expect(removed.statusCode).toBe(204);
    expect((await app.inject(`/v1/jobs/${record.nextJobId}`)).statusCode).toBe(404);
    const again = await app.inject({ method: 'DELETE', url: '/v1/schedules/weekday-report' });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe(ErrorCode.ScheduleNotFound);
  });

  describe('bad requests get the exact status and code', () => {
    const cases: [string, Record<string, unknown>, number, string, string][] = [
      ['a cron pattern with a bad field', { cron: '61 * * * *' }, 400, ErrorCode.InvalidRequest, 'body.cron'],
      ['a cron pattern of the wrong shape', { cron: 'every day' }, 400, ErrorCode.InvalidRequest, 'body.cron'],
      ['both cron and every', { cron: '* * * * *', every: '5m' }, 400, ErrorCode.InvalidRequest, 'body.cron'],
      ['neither cron nor every', {}, 400, ErrorCode.InvalidRequest, 'body.cron'],
      ['an unknown time zone', { cron: '* * * * *', tz: 'Mars/Olympus' }, 400, ErrorCode.InvalidRequest, 'body.tz'],
      ['a time zone with every', { every: '5m', tz: 'UTC' }, 400, ErrorCode.InvalidRequest, 'body.tz'],
      ['an interval under a second', { every: 10 }, 400, ErrorCode.InvalidRequest, 'body.every'],
      ['an end in the past', { every: '5m', endDate: '2001-01-01T00:00:00Z' }, 400, ErrorCode.InvalidRequest, 'body.endDate'],
      ['a zero limit', { every: '5m', limit: 0 }, 400, ErrorCode.InvalidRequest, 'body.limit'],
      ['an unknown field', { every: '5m', when: 'now' }, 400, ErrorCode.InvalidRequest, 'when'],
      ['an input that fails the schema', { every: '5m', input: { x: 'one', y: 2 } }, 400, ErrorCode.InvalidInput, 'body.input.x'],
      ['an unknown task', { every: '5m', task: 'nope' }, 404, ErrorCode.TaskNotFound, 'nope'],
    ];
    for (const [name, change, status, code, mentions] of cases) {
      it(`${name} → ${status} ${code}`, async () => {
        const app = await startApi();
        const response = await putJson(app, '/v1/schedules/s1', { task: 'add', input: { x: 1, y: 2 }, ...change });
        expect(response.statusCode).toBe(status);
        expect(response.json().error.code).toBe(code);
        expect(response.json().error.message).toContain(mentions);
        expect((await app.inject('/v1/schedules/s1')).statusCode).toBe(404);
      });
    }

    it('an unknown schedule id → 404 CELERIAC_SCHEDULE_NOT_FOUND; a malformed one → 400', async () => {
      const app = await startApi();
      const missing = await app.inject('/v1/schedules/no-such-schedule');
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error).toMatchObject({ code: ErrorCode.ScheduleNotFound, details: { id: 'no-such-schedule' } });
      const malformed = await app.inject('/v1/schedules/Not:Valid');
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().error.code).toBe(ErrorCode.InvalidRequest);
    });
  });

  it('lists the schedule routes in the OpenAPI document', async () => {
    const app = await startApi();
    const { paths } = (await app.inject('/docs/json')).json();
    expect(Object.keys(paths['/v1/schedules/{id}'])).toEqual(['put', 'get', 'delete']);
    expect(paths['/v1/schedules']).toHaveProperty('get');
  });
});
