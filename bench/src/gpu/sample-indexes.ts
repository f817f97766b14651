/** How many elements of a result are checked, besides the first two and the last. */
const spreadSamples = 13;

/**
 * The indexes at which a result is checked against the JS reference: the first two, the last, and 13 spread over
 * the range with an odd offset each, so they land in different workgroups and at different positions within one
 * (a kernel that gets only tile edges or only whole blocks right is caught). Checking a few elements keeps the
 * check cheap at 2^26 elements, where a full comparison would take longer than the kernel.
 */
export function sampleIndexes(length: number): number[] {
  if (length === 0) return [];
  const indexes = new Set([0, Math.min(1, length - 1), length - 1]);
  for (let k = 0; k < spreadSamples; k++) {
    indexes.add(Math.min(length - 1, Math.floor(((k + 0.5) * length) / spreadSamples) + ((k * 97) % 251)));
  }
  return [...indexes].sort((a, b) => a - b);
}
