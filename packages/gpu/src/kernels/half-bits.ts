const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/**
 * Converts numbers to IEEE 754 half-precision bits, the JavaScript form of `'f16[]'` arguments (Node 20 has no
 * `Float16Array`). Rounds to nearest, ties to even, like a GPU's f32-to-f16 conversion: values past ±65504 become
 * ±Infinity, tiny ones subnormals or ±0, and NaN stays NaN.
 *
 * @example
 * ```ts
 * const x = toHalfBits(new Float32Array([1, 0.5, -2])); // Uint16Array [0x3c00, 0x3800, 0xc000]
 * ```
 */
export function toHalfBits(values: Float32Array): Uint16Array {
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = halfBitsOf(values[i] as number);
  return bits;
}

/** Converts IEEE 754 half-precision bits (an `'f16[]'` result) to numbers, exactly: every f16 is an f32. */
export function fromHalfBits(bits: Uint16Array): Float32Array {
  const values = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) values[i] = valueOfHalf(bits[i] as number);
  return values;
}

function halfBitsOf(value: number): number {
  f32[0] = value;
  const x = f32Bits[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7f_ffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200); // ±Infinity, or a quiet NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: ±Infinity
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    // A subnormal: the mantissa with its implicit 1, shifted to units of 2^-24.
    return sign | roundShifted(mantissa | 0x80_0000, 14 - e);
  }
  // A carry out of the mantissa correctly bumps the exponent, up to Infinity.
  return sign | ((e << 10) + roundShifted(mantissa, 13));
}

/** `value >> shift`, rounded to nearest, ties to even. */
function roundShifted(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return kept + (rest > half || (rest === half && (kept & 1) === 1) ? 1 : 0);
}

function valueOfHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
