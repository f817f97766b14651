import { describe, expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { defineTask, type JobRecord, type JobState } from '@celeriac/core';
import { createClient, type JobHandle } from '@celeriac/client';
import { add } from './fixtures/tasks.js';

const greet = defineTask({
  name: 'greet',
  input: z.object({ name: z.string(), punctuation: z.string().default('!') }),
  output: z.object({ text: z.string(), at: z.iso.datetime() }),
  handler: ({ name, punctuation }) => ({ text: `hello ${name}${punctuation}`, at: new Date().toISOString() }),
});

// Type tests are compiled, never run: the client is never connected.
const client = createClient();

describe('client.enqueue is typed by the task', () => {
  test('the input type is the schema input; a wrong payload does not compile', () => {
    expectTypeOf(client.enqueue(add, { x: 1, y: 2 })).resolves.toEqualTypeOf<JobHandle<number>>();
    // @ts-expect-error y must be a number
    void client.enqueue(add, { x: 1, y: '2' });
    // @ts-expect-error y is required
    void client.enqueue(add, { x: 1 });
    // @ts-expect-error no extra fields on a typo'd property
    void client.enqueue(add, { x: 1, why: 2 });
  });

  test('fields with a default are optional on input', () => {
    void client.enqueue(greet, { name: 'Ada' });
    void client.enqueue(greet, { name: 'Ada', punctuation: '?' });
    // @ts-expect-error name is required
    void client.enqueue(greet, { punctuation: '?' });
  });

  test('result() resolves to the output type', async () => {
    const job = await client.enqueue(greet, { name: 'Ada' });
    expectTypeOf(job.result()).resolves.toEqualTypeOf<{ text: string; at: string }>();
    expectTypeOf(job.state()).resolves.toEqualTypeOf<JobState>();
    expectTypeOf(job.record()).resolves.toEqualTypeOf<JobRecord>();
  });

  test('options are checked', () => {
    void client.enqueue(add, { x: 1, y: 2 }, { delay: '30s', priority: 1, jobId: 'order-1', queue: 'fast' });
    // @ts-expect-error a duration needs a known unit
    void client.enqueue(add, { x: 1, y: 2 }, { delay: '30 seconds' });
    // @ts-expect-error unknown option
    void client.enqueue(add, { x: 1, y: 2 }, { retries: 3 });
  });

  test('enqueue by name takes any input and gives an untyped handle', () => {
    expectTypeOf(client.enqueueByName('add', { x: 1, y: 2 })).resolves.toEqualTypeOf<JobHandle>();
  });
});
