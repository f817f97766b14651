import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { bytes, defineTask, f32Array, f64Array, i32Array, u32Array, u8Array, type TaskInput, type TaskOutput } from '@celeriac/core';

describe('typed-array schema types', () => {
  it('infers the typed array on both sides of each schema', () => {
    expectTypeOf<z.output<ReturnType<typeof f32Array>>>().toEqualTypeOf<Float32Array>();
    expectTypeOf<z.input<ReturnType<typeof f32Array>>>().toEqualTypeOf<Float32Array>();
    expectTypeOf<z.output<ReturnType<typeof f64Array>>>().toEqualTypeOf<Float64Array>();
    expectTypeOf<z.output<ReturnType<typeof i32Array>>>().toEqualTypeOf<Int32Array>();
    expectTypeOf<z.output<ReturnType<typeof u32Array>>>().toEqualTypeOf<Uint32Array>();
    expectTypeOf<z.output<ReturnType<typeof u8Array>>>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<z.output<ReturnType<typeof bytes>>>().toEqualTypeOf<Uint8Array>();
  });

  it('types a task that takes and returns typed arrays, and rejects number arrays', () => {
    const scale = defineTask({
      name: 'scale',
      input: z.object({ values: f32Array(), factor: z.number() }),
      output: z.object({ scaled: f32Array() }),
      handler: ({ values, factor }) => {
        expectTypeOf(values).toEqualTypeOf<Float32Array>();
        return { scaled: values.map((v) => v * factor) };
      },
    });
    expectTypeOf(scale.name).toEqualTypeOf<'scale'>();
    expectTypeOf<TaskInput<typeof scale>>().toEqualTypeOf<{ values: Float32Array; factor: number }>();
    expectTypeOf<TaskOutput<typeof scale>>().toEqualTypeOf<{ scaled: Float32Array }>();
    // @ts-expect-error a number array is not a Float32Array
    const wrong: TaskInput<typeof scale> = { values: [1, 2], factor: 2 };
    void wrong;
  });
});
