import { describe, expectTypeOf, test } from 'vitest';
import { createClient, type ScheduleRecord } from '@celeriac/client';
import { add } from './fixtures/tasks.js';

// Type tests are compiled, never run: the client is never connected.
const client = createClient();

describe('client.schedule is typed by the task and the timing', () => {
  test('the input type is the schema input', () => {
    expectTypeOf(client.schedule('s', { every: '5m' }, add, { x: 1, y: 2 })).resolves.toEqualTypeOf<ScheduleRecord>();
    // @ts-expect-error y must be a number
    void client.schedule('s', { every: '5m' }, add, { x: 1, y: '2' });
  });

  test('exactly one of cron and every, and tz only with cron', () => {
    void client.schedule('s', { cron: '0 9 * * *', tz: 'Europe/Paris', limit: 3 }, add, { x: 1, y: 2 });
    // @ts-expect-error both cron and every
    void client.schedule('s', { cron: '0 9 * * *', every: '5m' }, add, { x: 1, y: 2 });
    // @ts-expect-error neither
    void client.schedule('s', { limit: 3 }, add, { x: 1, y: 2 });
    // @ts-expect-error tz is for cron patterns
    void client.schedule('s', { every: '5m', tz: 'UTC' }, add, { x: 1, y: 2 });
  });
});
