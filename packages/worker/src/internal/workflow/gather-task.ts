import { z } from 'zod';
import { defineTask } from '@celeriac/core';

/**
 * The job that stands for a group (or a chunks node) in a workflow: it waits for the members, and its result is
 * theirs, in order. Every worker knows it, so it runs on whichever worker consumes its queue (the first member's).
 */
export const gatherTask = defineTask({
  name: 'celeriac.gather',
  description: 'Collects the results of a workflow group, in order.',
  input: z.array(z.unknown()),
  output: z.array(z.unknown()),
  isolation: 'inline',
  handler: (results) => results,
});
