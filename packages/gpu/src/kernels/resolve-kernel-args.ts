import { CeleriacError, ErrorCode } from '@celeriac/core';
import { isTypedArrayFor, typedArrayConstructorFor, type Dtype, type KernelArray } from './dtype.js';
import { isDeviceArrayRef, type DeviceArrayRef } from './device-array-ref.js';
import type { ArraySlot, KernelSpec } from './kernel-spec.js';
import { createRunSizes, evaluateSize } from './run-sizes.js';

/** Run arguments as they cross to the executor process: typed arrays, device arrays and numbers by name. */
export type KernelArgValues = Readonly<Record<string, KernelArray | DeviceArrayRef | number>>;

/** Validated run arguments: exactly the kernel's scalars and input arrays, and the element count they imply. */
export interface ResolvedKernelArgs {
  readonly values: KernelArgValues;
  /** The common length of the input arrays. */
  readonly n: number;
}

const i32Range = [-(2 ** 31), 2 ** 31 - 1] as const;
const u32Range = [0, 2 ** 32 - 1] as const;
/** The largest finite f16 (values up to half an ulp above it still round to it, but none is worth the edge case). */
const maxF16 = 65_504;

/**
 * Checks a run's `args` against the kernel's declaration before anything is sent to the executor, so a mistake is
 * reported with the argument's name instead of as a GPU fault: missing or extra arguments, the wrong typed array,
 * input arrays of different lengths, a matrix whose length is not the product of its size scalars, non-finite
 * scalars, and non-integers or out-of-range values for `i32`/`u32`.
 *
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` naming the argument
 */
export function resolveKernelArgs(spec: KernelSpec, args: unknown): ResolvedKernelArgs {
  if (typeof args !== 'object' || args === null) {
    throw invalid(spec, `args must be an object of arguments; got ${describeValue(args)}.`, {});
  }
  const given = args as Record<string, unknown>;
  assertNoUnknownArgs(spec, given);
  const values: Record<string, KernelArray | DeviceArrayRef | number> = {};
  // Scalars first: a matrix's length is a product of its size scalars.
  for (const slot of spec.scalars) {
    values[slot.name] = checkScalar(spec, slot.name, slot.dtype, requireArg(spec, given, slot.name));
  }
  const scalars = values as Record<string, number>;
  let n: number | undefined;
  let first = '';
  for (const slot of spec.arrays.filter((a) => !a.output)) {
    const value = requireArg(spec, given, slot.name);
    const onDevice = isDeviceArrayRef(value) && value.dtype === slot.dtype;
    if (!onDevice && !isTypedArrayFor(slot.dtype, value)) {
      const expected = typedArrayConstructorFor(slot.dtype).name;
      throw invalid(
        spec,
        `argument "${slot.name}" must be a ${expected} or a GpuArray of ${slot.dtype} (${slot.dtype}[]); got ${describeValue(value)}.`,
        { argument: slot.name },
      );
    }
    if (!isCommonLength(slot)) {
      assertProductLength(spec, slot, value.length, scalars);
    } else if (n !== undefined && value.length !== n) {
      throw invalid(
        spec,
        `input arrays must have the same length, but "${first}" has ${n} elements and "${slot.name}" has ${value.length}.`,
        { argument: slot.name, expected: n, actual: value.length },
      );
    } else if (n === undefined) {
      [n, first] = [value.length, slot.name];
    }
    values[slot.name] = value;
  }
  return { values, n: n ?? 0 };
}

/** Whether an array has the run's common length `n` (`['n']`), rather than a product of size scalars (a matrix). */
export function isCommonLength(slot: ArraySlot): boolean {
  return slot.length.length === 1 && slot.length[0] === 'n';
}

/** A matrix argument must hold exactly the product of its size scalars, e.g. `rows * inner` elements. */
function assertProductLength(spec: KernelSpec, slot: ArraySlot, actual: number, scalars: Record<string, number>): void {
  const expected = evaluateSize(slot.length, createRunSizes(0, scalars));
  if (actual === expected) return;
  const factors = slot.length.map((factor) => `${factor} = ${scalars[factor]}`).join(', ');
  throw invalid(
    spec,
    `argument "${slot.name}" must have ${slot.length.join(' * ')} = ${expected} elements (${factors}); got ${actual}.`,
    { argument: slot.name, expected, actual },
  );
}

function assertNoUnknownArgs(spec: KernelSpec, given: Record<string, unknown>): void {
  const outputs = new Set(spec.arrays.filter((a) => a.output).map((a) => a.name));
  const known = new Set([...spec.scalars, ...spec.arrays].map((slot) => slot.name));
  for (const name of Object.keys(given)) {
    if (outputs.has(name)) {
      throw invalid(spec, `argument "${name}" is an output; the executor allocates it, so leave it out of args.`, {
        argument: name,
      });
    }
    if (!known.has(name)) {
      throw invalid(spec, `got unknown argument "${name}"; it takes ${[...known].map((k) => `"${k}"`).join(', ')}.`, {
        argument: name,
      });
    }
  }
}

function requireArg(spec: KernelSpec, given: Record<string, unknown>, name: string): unknown {
  if (given[name] !== undefined) return given[name];
  throw invalid(spec, `argument "${name}" is missing.`, { argument: name });
}

function checkScalar(spec: KernelSpec, name: string, dtype: Dtype, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(spec, `scalar "${name}" (${dtype}) must be a finite number; got ${describeValue(value)}.`, {
      argument: name,
    });
  }
  if (dtype === 'f32' || dtype === 'f16') {
    // Finite doubles beyond the type's range become ±Infinity on the GPU, which the kernel would silently compute with.
    if (!Number.isFinite(Math.fround(value)) || (dtype === 'f16' && Math.abs(value) > maxF16)) {
      throw invalid(spec, `scalar "${name}" (${dtype}) is ${value}, outside the ${dtype} range.`, { argument: name });
    }
    return value;
  }
  const [min, max] = dtype === 'i32' ? i32Range : u32Range;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(spec, `scalar "${name}" (${dtype}) must be an integer from ${min} to ${max}; got ${value}.`, {
      argument: name,
    });
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (isDeviceArrayRef(value)) return `a GpuArray of ${value.dtype}`;
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (Array.isArray(value)) return 'an Array';
  if (typeof value === 'number') return String(value);
  return typeof value;
}

function invalid(spec: KernelSpec, problem: string, details: Record<string, unknown>): CeleriacError {
  return new CeleriacError(
    ErrorCode.KernelInvalidArguments,
    `Kernel "${spec.name}": ${problem} Fix the arguments passed to run().`,
    { details: { kernel: spec.name, ...details } },
  );
}
