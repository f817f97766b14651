import { describe, expect, it } from 'vitest';
import { resolveEnqueueOptions } from '@celeriac/client';

describe('resolveEnqueueOptions', () => {
  it('turns durations into milliseconds', () => {
    expect(resolveEnqueueOptions({ delay: '2m', priority: 3, jobId: 'order-9', queue: 'fast' })).toEqual({
      delay: 120_000,
      priority: 3,
      jobId: 'order-9',
      queue: 'fast',
    });
    expect(resolveEnqueueOptions()).toEqual({});
  });

  it.each([
    [{ priority: 0 }, 'enqueue.priority'],
    [{ priority: 3_000_000 }, 'enqueue.priority'],
    [{ jobId: '123' }, 'enqueue.jobId'],
    [{ jobId: 'a:b' }, 'enqueue.jobId'],
    [{ queue: 'Bad Queue' }, 'enqueue.queue'],
    [{ delay: -5 }, 'enqueue.delay'],
    [{ retries: 3 }, 'enqueue'],
  ])('refuses %j, naming %s', (options, path) => {
    expect(() => resolveEnqueueOptions(options as never)).toThrow(path);
  });
});
