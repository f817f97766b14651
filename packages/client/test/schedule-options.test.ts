import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@celeriac/core';
import { resolveScheduleOptions, type ScheduleOptions } from '@celeriac/client';

const inAMinute = () => new Date(Date.now() + 60_000);

describe('resolveScheduleOptions', () => {
  it('turns an interval into milliseconds and dates into ISO strings', () => {
    const endDate = inAMinute();
    expect(resolveScheduleOptions({ every: '5m', endDate, limit: 3 })).toEqual({
      everyMs: 300_000,
      endDate: endDate.toISOString(),
      limit: 3,
    });
    expect(resolveScheduleOptions({ cron: ' 0 9 * * 1-5 ', tz: 'Europe/Paris' })).toEqual({
      cron: '0 9 * * 1-5',
      tz: 'Europe/Paris',
    });
    expect(resolveScheduleOptions({ cron: '*/10 * * * * *' })).toEqual({ cron: '*/10 * * * * *' });
    expect(resolveScheduleOptions({ cron: '@daily' })).toEqual({ cron: '@daily' });
  });

  it.each([
    [{ cron: '*/5 * * * *', every: '5m' }, 'schedule.cron', 'exactly one of cron and every'],
    [{}, 'schedule.cron', 'exactly one of cron and every'],
    [{ cron: 'every day' }, 'schedule.cron', '5 cron fields'],
    [{ cron: '* * * *' }, 'schedule.cron', '5 cron fields'],
    [{ cron: '* * * * * * *' }, 'schedule.cron', '5 cron fields'],
    [{ every: '5 minutes' }, 'schedule.every', 'duration'],
    [{ every: 500 }, 'schedule.every', 'at least 1 s'],
    [{ cron: '0 9 * * *', tz: 'Europe/Nowhere' }, 'schedule.tz', 'IANA time zone'],
    [{ every: '5m', tz: 'UTC' }, 'schedule.tz', 'cron only'],
    [{ every: '5m', limit: 0 }, 'schedule.limit', ''],
    [{ every: '5m', limit: 1.5 }, 'schedule.limit', ''],
    [{ every: '5m', startDate: '2030-01-01' }, 'schedule.startDate', ''],
    [{ every: '5m', endDate: new Date(Date.now() - 1_000) }, 'schedule.endDate', 'has passed'],
    [{ every: '5m', startDate: new Date(Date.now() + 120_000), endDate: inAMinute() }, 'schedule.endDate', 'after startDate'],
    [{ every: '5m', startDate: new Date('not a date') }, 'schedule.startDate', ''],
    [{ every: '5m', queue: 'fast' }, 'schedule', 'queue'],
  ])('refuses %j, naming %s', (options, path, message) => {
    let thrown: unknown;
    try {
      resolveScheduleOptions(options as unknown as ScheduleOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: ErrorCode.InvalidOptions });
    expect((thrown as Error).message).toContain(path);
    expect((thrown as Error).message).toContain(message);
  });
});
