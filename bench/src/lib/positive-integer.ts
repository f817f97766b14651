/**
 * Parses a command-line count such as `--jobs 5000`. A typo must stop the run with the flag's name rather than
 * measure something else (`Number('5k')` is `NaN`, and a loop over `NaN` jobs measures nothing).
 */
export function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer, got "${text}"`);
  return value;
}
