import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTask, ErrorCode, isCeleriacError } from '@celeriac/core';
import { createRedisBroker } from '@celeriac/redis';
import { resolveWorkerOptions } from '@celeriac/worker';

const task = (name: string, queue?: string) =>
  defineTask({ name, input: z.object({}), output: z.null(), handler: () => null, ...(queue ? { queue } : {}) });

describe('resolveWorkerOptions', () => {
  it("consumes the tasks' queues by default", () => {
    const resolved = resolveWorkerOptions({ tasks: [task('a'), task('b', 'fast'), task('c', 'fast')] });
    expect(resolved.queues).toEqual(['default', 'fast']);
    expect(resolved).toMatchObject({ shutdownTimeoutMs: 30_000, heartbeatIntervalMs: 5_000 });
    expect(resolved.concurrency).toBeGreaterThanOrEqual(1);
  });

  it('refuses duplicate task names, a broker beside a connection, and bad numbers, naming the field', () => {
    const cases: [() => unknown, string][] = [
      [() => resolveWorkerOptions({ tasks: [task('a'), task('a')] }), 'worker.tasks'],
      [() => resolveWorkerOptions({ tasks: [task('a')], concurrency: 1.5 }), 'worker.concurrency'],
      [() => resolveWorkerOptions({ tasks: [task('a')], queues: ['Bad Queue'] }), 'worker.queues.0'],
      [() => resolveWorkerOptions({ tasks: [task('a')], shutdownTimeout: 'soon' as '1s' }), 'worker.shutdownTimeout'],
      [() => resolveWorkerOptions({ tasks: [{ name: 'x' } as never] }), 'worker.tasks.0'],
    ];
    for (const [run, path] of cases) {
      let error: unknown;
      try {
        run();
      } catch (e) {
        error = e;
      }
      expect(isCeleriacError(error, ErrorCode.InvalidOptions), path).toBe(true);
      expect((error as Error).message).toContain(path);
    }
  });

  it('refuses a broker together with connection options', async () => {
    const broker = createRedisBroker({ connection: 'redis://127.0.0.1:1' });
    try {
      expect(() => resolveWorkerOptions({ tasks: [task('a')], broker, prefix: 'x' })).toThrow(/worker\.broker/);
    } finally {
      await broker.close();
    }
  });
});
