import { z } from 'zod';

/**
 * The largest vector the examples accept over JSON. Bigger inputs belong in binary payloads (typed arrays beside
 * the job), not in JSON number arrays.
 */
export const maxJsonVectorLength = 1 << 22;

/** A vector of numbers, sent as JSON; the GPU computes in f32. */
export const vector = z.array(z.number()).min(1).max(maxJsonVectorLength);

/** Refinement for inputs with two vectors `x` and `y`: `.refine(...sameLengthXY)`. */
export const sameLengthXY: [
  check: (value: { readonly x: readonly number[]; readonly y: readonly number[] }) => boolean,
  params: { message: string; path: string[] },
] = [(value) => value.x.length === value.y.length, { message: 'x and y must have the same length', path: ['y'] }];
