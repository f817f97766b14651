import { describe, expectTypeOf, test } from 'vitest';
import type { ControlReport, JobState } from '@celeriac/core';
import { createClient, type BulkEnqueued, type JobPage, type QueueSummary, type WorkerView } from '@celeriac/client';
import { add } from './fixtures/tasks.js';

// Type tests are compiled, never run: the client is never connected.
const client = createClient();

describe('the operator methods are typed', () => {
  test('enqueueBulk takes the task input and gives handles typed by its output', () => {
    expectTypeOf(client.enqueueBulk(add, [{ input: { x: 1, y: 2 } }])).resolves.toEqualTypeOf<BulkEnqueued<number>[]>();
    // @ts-expect-error y must be a number
    void client.enqueueBulk(add, [{ input: { x: 1, y: '2' } }]);
    // @ts-expect-error bulk items carry their input under `input`
    void client.enqueueBulk(add, [{ x: 1, y: 2 }]);
  });

  test('listings and control have their shapes', () => {
    expectTypeOf(client.listJobs({ state: ['failed', 'cancelled'], limit: 10 })).resolves.toEqualTypeOf<JobPage>();
    // @ts-expect-error not a job state
    void client.listJobs({ state: 'sleeping' });
    expectTypeOf(client.retryJob('id')).resolves.toEqualTypeOf<{ readonly id: string; readonly previousState: JobState }>();
    expectTypeOf(client.listQueues()).resolves.toEqualTypeOf<QueueSummary[]>();
    expectTypeOf(client.listWorkers()).resolves.toEqualTypeOf<WorkerView[]>();
    expectTypeOf(client.control({ command: 'set-concurrency', args: { concurrency: 4 } })).resolves.toEqualTypeOf<ControlReport>();
    // @ts-expect-error set-concurrency needs its concurrency
    void client.control({ command: 'set-concurrency' });
    // @ts-expect-error not a command
    void client.control({ command: 'reboot' });
  });
});
