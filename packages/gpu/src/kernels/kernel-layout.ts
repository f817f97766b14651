import { CeleriacError, ErrorCode } from '@celeriac/core';
import { ArgKind, parseArgDescriptor } from './arg-descriptor.js';
import { bytesOf, type Dtype } from './dtype.js';
import { paramsBinding, type ArraySlot, type ScalarSlot, type ScratchSlot, type SizeExpr } from './kernel-spec.js';

/** The binding layout derived from a builder's `args`: uniform slots for scalars, storage bindings for arrays. */
export interface KernelLayout {
  readonly scalars: readonly ScalarSlot[];
  readonly arrays: readonly ArraySlot[];
}

/**
 * Parses a builder's `args` object into a {@link KernelLayout}. Arrays get bindings 1, 2, … in declaration order
 * (binding 0 is the uniform block), so the same `args` always give the same WGSL and hit the same cached pipeline.
 *
 * @param allowOutputs - false for kernels whose result is not their `out` arrays (a reduction's value, a scan's array)
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
      throw invalid(`${kernel}: argument "${name}" is an output, but this kernel returns its own result. Remove "out".`);
    } else {
      const output = arg.kind === ArgKind.Output;
      arrays.push({ name, dtype: arg.dtype, binding: paramsBinding + 1 + arrays.length, output, length: ['n'] });
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

/** The uniform fields of a kernel that accepts a range, after `n`: its first index, step and index count. */
const rangeFields = ['_start', '_step', '_count'] as const;

/**
 * Renders the declarations every generated kernel starts with: the `Params` uniform struct (`n` first, then the
 * range's fields for a kernel that accepts one, then the scalars) and one storage binding per array.
 */
export function renderLayoutDeclarations(layout: KernelLayout, acceptsRange = false): string {
  // An f16 scalar is an f32 field: every slot stays 4 bytes, and `renderScalarLets` converts it.
  const fields = [
    `  n: u32,`,
    ...(acceptsRange ? rangeFields.map((name) => `  ${name}: u32,`) : []),
    ...layout.scalars.map((s) => `  ${s.name}: ${s.dtype === 'f16' ? 'f32' : s.dtype},`),
  ];
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
  const value = (s: ScalarSlot): string => (s.dtype === 'f16' ? `f16(params.${s.name})` : `params.${s.name}`);
  return [`let n = params.n;`, ...layout.scalars.map((s) => `let ${s.name} = ${value(s)};`)]
    .map((line) => indent + line)
    .join('\n');
}

/**
 * Describes scratch buffers placed after a layout's arrays, in order: bindings continue where the arrays end, so the
 * builders never count bindings by hand.
 */
export function appendScratch(
  layout: KernelLayout,
  buffers: readonly Omit<ScratchSlot, 'binding'>[],
): readonly ScratchSlot[] {
  const first = paramsBinding + 1 + layout.arrays.length;
  return buffers.map((buffer, index) => ({ ...buffer, binding: first + index }));
}

/** A scratch buffer of `length` elements of `dtype`, for {@link appendScratch}: its element size follows from the dtype. */
export function dtypeScratch(name: string, dtype: Dtype, length: SizeExpr): Omit<ScratchSlot, 'binding'> {
  return { name, wgslType: dtype, elementBytes: bytesOf(dtype), length };
}

/** Renders one read-write storage binding per scratch buffer. */
export function renderScratchDeclarations(scratch: readonly ScratchSlot[]): string {
  return scratch
    .map((s) => `@group(0) @binding(${s.binding}) var<storage, read_write> ${s.name}: array<${s.wgslType}>;`)
    .join('\n');
}

/**
 * Refuses argument names that a kernel's generated code binds beside `i` and `n` (a scan's `item` and `prevItem`),
 * so an argument never silently shadows them.
 *
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` naming the argument
 */
export function assertNoReservedNames(kernel: string, layout: KernelLayout, reserved: readonly string[]): void {
  for (const slot of [...layout.scalars, ...layout.arrays]) {
    if (reserved.includes(slot.name)) {
      throw invalid(
        `${kernel}: argument "${slot.name}" is a name the generated code binds (${reserved.join(', ')}). Rename it.`,
      );
    }
  }
}
