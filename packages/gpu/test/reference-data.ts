/**
 * Test inputs from cheap integer formulas (no Math.random: a failure must reproduce), and comparison helpers for
 * f32 results. The sizes straddle the workgroup (256) and reach past 2^22 so partial workgroups, many workgroups
 * and the grid-stride loop are all exercised.
 */
export const sizes = [1, 7, 255, 256, 257, 65_537, 2 ** 22, 2 ** 22 + 3] as const;

/** Values in [-1, 1) with a few hundred distinct values and mixed signs; `seed` decorrelates arrays. */
export function mixedF32(n: number, seed: number): Float32Array {
  const array = new Float32Array(n);
  for (let i = 0; i < n; i++) array[i] = (((i * 7919 + seed * 104_729) % 2003) - 1001) / 1001;
  return array;
}

/** Values spread over the whole i32 range (a multiplicative hash of the index). */
export function hashedI32(n: number, seed: number): Int32Array {
  const array = new Int32Array(n);
  for (let i = 0; i < n; i++) array[i] = Math.imul(i + seed, 0x9e3779b1);
  return array;
}

/** Values spread over the whole u32 range. */
export function hashedU32(n: number, seed: number): Uint32Array {
  return new Uint32Array(hashedI32(n, seed).buffer);
}

const scratch = new DataView(new ArrayBuffer(4));

/** The spacing of f32 values at `value`: the least a correctly rounded f32 result can be off by when not exact. */
export function ulpF32(value: number): number {
  scratch.setFloat32(0, Math.abs(value));
  const bits = scratch.getUint32(0);
  scratch.setUint32(0, bits + 1);
  return scratch.getFloat32(0) - Math.abs(Math.fround(value));
}

/**
 * Compares `actual` with `expected` element by element with a per-element tolerance, and returns the first few
 * mismatches (an empty array when all match), so a failure shows indices and values without 4M assertions.
 */
export function mismatches(
  actual: ArrayLike<number>,
  expected: (i: number) => number,
  tolerance: (i: number, want: number) => number,
): string[] {
  const found: string[] = [];
  for (let i = 0; i < actual.length && found.length < 5; i++) {
    const want = expected(i);
    const got = actual[i] as number;
    if (!(Math.abs(got - want) <= tolerance(i, want))) found.push(`[${i}] got ${got}, want ${want}`);
  }
  return found;
}
