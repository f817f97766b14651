/** A reproducible f32 vector of `length` values in [-1, 1] with three decimals, from mulberry32 seeded with `seed`. */
export function seededVector(length: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    values[i] = Math.round(unit * 2_000 - 1_000) / 1_000;
  }
  return values;
}

/** The dot product in float64 of the f32 inputs: the reference a GPU f32 reduction is judged against. */
export function referenceDot(x: Float32Array, y: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += (x[i] ?? 0) * (y[i] ?? 0);
  return sum;
}
