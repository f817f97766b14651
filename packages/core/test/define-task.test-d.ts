import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineTask, type TaskContext, type TaskInput, type TaskOutput } from '@celeriac/core';

const input = z.object({ url: z.string(), width: z.number().default(256), tags: z.array(z.string()).optional() });
const output = z.object({ bytes: z.number(), format: z.string().default('png') });

describe('defineTask types', () => {
  it('hands the handler z.output of the input schema, with defaults applied', () => {
    defineTask({
      name: 'images.resize',
      input,
      output,
      handler: (value, ctx) => {
        expectTypeOf(value).toEqualTypeOf<z.output<typeof input>>();
        expectTypeOf(value.width).toEqualTypeOf<number>();
        expectTypeOf(ctx).toEqualTypeOf<TaskContext>();
        return { bytes: value.width };
      },
    });
  });

  it('types callers with z.input (defaults optional) and results with z.output', () => {
    const task = defineTask({ name: 'images.resize', input, output, handler: () => ({ bytes: 1 }) });

    expectTypeOf<TaskInput<typeof task>>().toEqualTypeOf<z.input<typeof input>>();
    expectTypeOf<TaskInput<typeof task>>().toEqualTypeOf<{ url: string; width?: number | undefined; tags?: string[] | undefined }>();
    expectTypeOf<TaskOutput<typeof task>>().toEqualTypeOf<{ bytes: number; format: string }>();
    expectTypeOf(task.name).toEqualTypeOf<'images.resize'>();
  });

  it('accepts an async handler returning the output schema’s input', () => {
    defineTask({ name: 'count', input, output: z.number(), handler: async ({ url }) => url.length });
  });

  it('rejects a handler whose result does not fit the output schema', () => {
    defineTask({
      name: 'count',
      input,
      output: z.number(),
      // @ts-expect-error -- the handler must return a number, not a string
      handler: () => 'three',
    });
    defineTask({
      name: 'count',
      input,
      output: z.number(),
      // @ts-expect-error -- an async handler must resolve to a number too
      handler: async () => ({ count: 3 }),
    });
  });

  it('rejects a handler that expects more than the input schema gives', () => {
    defineTask({
      name: 'count',
      input,
      output: z.number(),
      // @ts-expect-error -- `height` is not in the input schema
      handler: (value: { url: string; height: number }) => value.height,
    });
  });
});
