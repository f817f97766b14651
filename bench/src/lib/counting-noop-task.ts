import { z } from 'zod';
import { defineTask } from '@celeriac/core';

/**
 * An inline no-op task: empty input, `null` output, and `onRun` called on each run, which counts jobs exactly and
 * costs nothing. A producer only needs the definition to enqueue, so it passes no `onRun`.
 */
export function defineCountingNoopTask(name: string, queue: string, onRun: () => void = () => {}) {
  return defineTask({
    name,
    queue,
    input: z.object({}),
    output: z.null(),
    isolation: 'inline',
    handler: () => {
      onRun();
      return null;
    },
  });
}
