import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTask, ErrorCode, type TaskOptions } from '@celeriac/core';

const input = z.object({ x: z.number(), y: z.number() });
const output = z.number();
const add = (value: { x: number; y: number }) => value.x + value.y;

/** `defineTask` as plain JavaScript callers reach it: the types do not stop them, so the run-time check must. */
const defineUntyped = defineTask as unknown as (options: Record<string, unknown>) => unknown;

/** What `defineTask` throws for an invalid field: the options code, and the field's path in message and details. */
function invalidField(path: string, message: string) {
  return expect.objectContaining({
    code: ErrorCode.InvalidOptions,
    retryable: false,
    message: expect.stringContaining(`${path}: ${message}`),
    details: { issues: expect.arrayContaining([expect.objectContaining({ path })]) },
  });
}

describe('defineTask', () => {
  it('returns a frozen definition that keeps the schemas and handler, with defaults filled in', () => {
    const task = defineTask({ name: 'math.add', input, output, handler: add });

    expect(task).toEqual({
      name: 'math.add',
      input,
      output,
      queue: 'default',
      resources: {},
      retry: { attempts: 1, backoff: 'exponential', delayMs: 1_000, maxDelayMs: 600_000, jitter: 0.2 },
      limits: {},
      isolation: 'sandbox',
      handler: add,
    });
    expect(task.input).toBe(input);
    expect(task.handler).toBe(add);
    expect(Object.isFrozen(task)).toBe(true);
    expect(Object.isFrozen(task.resources)).toBe(true);
  });

  it('keeps an explicit queue, resources and description', () => {
    const task = defineTask({
      name: 'render_frame-2',
      input,
      output,
      queue: 'gpu',
      resources: { gpu: 1 },
      description: 'Renders one frame.',
      handler: add,
    });

    expect(task).toMatchObject({ queue: 'gpu', resources: { gpu: 1 }, description: 'Renders one frame.' });
  });

  it.each([
    ['upper case', 'Math.Add'],
    ['a space', 'math add'],
    ['a leading dot', '.add'],
    ['an empty name', ''],
  ])('rejects a name with %s, naming task.name', (_, name) => {
    expect(() => defineTask({ name, input, output, handler: add })).toThrow(invalidField('task.name', ''));
  });

  it('rejects an input that is not a zod schema', () => {
    expect(() => defineUntyped({ name: 'add', input: { x: 'number' }, output, handler: add })).toThrow(
      invalidField('task.input', 'expected a zod schema'),
    );
  });

  it('rejects a handler that is not a function', () => {
    expect(() => defineUntyped({ name: 'add', input, output, handler: 'add' })).toThrow(
      invalidField('task.handler', 'expected a function'),
    );
  });

  it('reports every bad field at once, so one fix-and-retry round is enough', () => {
    const options: TaskOptions<string, typeof input, typeof output> = {
      name: 'Add',
      input,
      output,
      queue: 'Default Queue',
      resources: { gpu: 0 },
      handler: add,
    };

    expect(() => defineTask(options)).toThrow(
      expect.objectContaining({
        details: {
          issues: [
            expect.objectContaining({ path: 'task.name' }),
            expect.objectContaining({ path: 'task.queue' }),
            expect.objectContaining({ path: 'task.resources.gpu' }),
          ],
        },
      }),
    );
  });
});
