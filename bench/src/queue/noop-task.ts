import { z } from 'zod';
import { defineTask } from '@celeriac/core';
import { queueName } from './trial.js';

/**
 * The no-op task as a module of its own, so sandbox threads can load it (a thread cannot be handed a function):
 * empty input and `null` output, the least a task can declare.
 */
export const noop = defineTask({
  name: 'noop',
  queue: queueName,
  input: z.object({}),
  output: z.null(),
  handler: () => null,
});
