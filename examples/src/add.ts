import { z } from 'zod';
import { defineTask } from '@celeriac/core';

/** Celery's "hello world" (`@app.task def add(x, y): return x + y`), as a typed celeriac task. */
export const add = defineTask({
  name: 'add',
  description: 'Adds two numbers.',
  input: z.object({ x: z.number(), y: z.number() }),
  output: z.number(),
  handler: ({ x, y }) => x + y,
});
