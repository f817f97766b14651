import { CeleriacError, ErrorCode } from '@celeriac/core';
import { ArgKind, parseArgDescriptor } from './arg-descriptor.js';
import { paramsBinding, type ArraySlot, type ScalarSlot } from './kernel-spec.js';

/** The binding layout derived from a builder's `args`: uniform slots for scalars, storage bindings for arrays. */
export interface KernelLayout {
  readonly scalars: readonly ScalarSlot[];
  readonly arrays: readonly ArraySlot[];
}

/**
 * Parses a builder's `args` object into a {@link KernelLayout}. Arrays get bindings 1, 2, … in declaration order
 * (binding 0 is the uniform block), so the same `args` always give the same WGSL and hit the same cached pipeline.
 *
 * @param allowOutputs - false for reductions, whose only output is the reduced value
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for a bad descriptor, or when no input array exists
 */
export function buildKernelLayout(kernel: string, args: unknown, allowOutputs: boolean): KernelLayout {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw invalid(`${kernel}: "args" must be an object such as { x: 'f32[]', a: 'f32' }; got ${typeof args}.`);
  }
  const scalars: ScalarSlot[] = [];
  const arrays: ArraySlot[] = [];
  for (const [name, descriptor] of Object.entries(args)) {
    const arg = parseArgDescriptor(name, descriptor);
    if (arg.kind === ArgKind.Scalar) {
      scalars.push({ name, dtype: arg.dtype });
    } else if (arg.kind === ArgKind.Output && !allowOutputs) {
      throw invalid(`${kernel}: argument "${name}" is an output, but a reduction returns one value. Remove "out".`);
    } else {
      arrays.push({ name, dtype: arg.dtype, binding: paramsBinding + 1 + arrays.length, output: arg.kind === ArgKind.Output });
    }
  }
  if (!arrays.some((slot) => !slot.output)) {
    // n, the element count, comes from the input arrays; without one the kernel would not know its size.
    throw invalid(`${kernel}: declare at least one input array (e.g. x: 'f32[]'); its length sets the element count n.`);
  }
  return { scalars, arrays };
}

function invalid(message: string): CeleriacError {
  return new CeleriacError(ErrorCode.KernelInvalidArguments, message);
}

/**
 * Renders the declarations every generated kernel starts with: the `Params` uniform struct (`n` first, then the
 * scalars) and one storage binding per array.
 */
export function renderLayoutDeclarations(layout: KernelLayout): string {
  const fields = [`  n: u32,`, ...layout.scalars.map((s) => `  ${s.name}: ${s.dtype},`)];
  const arrays = layout.arrays.map(
    (a) =>
      `@group(0) @binding(${a.binding}) var<storage, ${a.output ? 'read_write' : 'read'}> ${a.name}: array<${a.dtype}>;`,
  );
  return [
    'struct Params {',
    ...fields,
    '}',
    `@group(0) @binding(${paramsBinding}) var<uniform> params: Params;`,
    ...arrays,
  ].join('\n');
}

/**
 * Renders `let n = params.n;` and `let a = params.a;` for each scalar, so user expressions name scalars directly
 * and the operation text can be used verbatim.
 */
export function renderScalarLets(layout: KernelLayout, indent: string): string {
  return [`let n = params.n;`, ...layout.scalars.map((s) => `let ${s.name} = params.${s.name};`)]
    .map((line) => indent + line)
    .join('\n');
}
