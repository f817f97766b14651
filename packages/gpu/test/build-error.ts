/**
 * Calls the builder `build` with `options` cast past its types, as a JavaScript caller could, and returns what it
 * throws; fails when it throws nothing.
 */
export function buildError(build: (options: never) => unknown, options: Record<string, unknown>): unknown {
  try {
    build(options as never);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${build.name}() to throw`);
}
