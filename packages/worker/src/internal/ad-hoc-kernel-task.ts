import { z } from 'zod';
import {
  CeleriacError,
  ErrorCode,
  bytes,
  defineTask,
  f32Array,
  omitUndefined,
  i32Array,
  u32Array,
  type TaskDefinition,
} from '@celeriac/core';
import type { ArgDescriptor, KernelArgs, ReductionArgDescriptor } from '@celeriac/gpu';

/** The name of the built-in task that runs kernels sent as data; see {@link createAdHocKernelTask}. */
export const adHocKernelTaskName = 'celeriac.kernel';

/** Limits of the ad-hoc kernel task, from the worker's `adHocKernels` option. */
export interface AdHocKernelLimits {
  /** Most elements in any one array argument. */
  readonly maxElements: number;
  /** Hard time limit of one job, GPU work included. */
  readonly timeLimitMs: number;
}

/**
 * An array argument: any typed array from the SDK, the base64 of its little-endian bytes over HTTP. The kernel's
 * `args` declaration says how the bytes are read, so a `Float32Array` may feed an `'i32[]'` argument bit for bit,
 * as a buffer would in PyOpenCL.
 */
const arrayValue = z.union([bytes(), f32Array(), i32Array(), u32Array()]);

/** WGSL text fields are bounded: a kernel is a few lines, and the text is compiled by the GPU driver. */
const wgsl = (what: string) => z.string().min(1).max(16_384).describe(what);

const argsSchema = z
  .record(z.string(), z.string())
  .describe("The kernel's arguments by name: 'f32' (scalar), 'f32[]' (input array), 'out f32[]' (output); also i32, u32.");

const valuesSchema = z
  .record(z.string(), z.union([z.number(), arrayValue]))
  .describe('A number for each scalar and a typed array for each input array, by name.');

const elementwiseSpec = z
  .object({
    kind: z.literal('elementwise'),
    args: argsSchema,
    operation: wgsl('WGSL statement(s) run for each element `i` (PyOpenCL ElementwiseKernel operation).'),
    preamble: wgsl('WGSL helper functions and constants.').optional(),
    values: valuesSchema,
    range: z
      .object({
        start: z.number().int().min(0).optional(),
        stop: z.number().int().min(0).optional(),
        step: z.number().int().min(1).optional(),
      })
      .strict()
      .optional()
      .describe("Run the operation for i = start, start + step, … below stop only (PyOpenCL's range=); other output elements are 0."),
  })
  .strict();

const reductionSpec = z
  .object({
    kind: z.literal('reduction'),
    dtype: z.enum(['f32', 'i32', 'u32']),
    neutral: wgsl('The identity of `reduce`, e.g. `0.0`.'),
    map: wgsl('The value of element `i`, e.g. `x[i] * y[i]`.'),
    reduce: wgsl('Combines `a` and `b`, e.g. `a + b`; must be associative.'),
    args: argsSchema,
    preamble: wgsl('WGSL helper functions and constants.').optional(),
    values: valuesSchema,
  })
  .strict();

const adHocKernelInput = z.discriminatedUnion('kind', [elementwiseSpec, reductionSpec]);

/** An ad-hoc kernel as a client sends it. */
export type AdHocKernelInput = z.input<typeof adHocKernelInput>;

const adHocKernelOutput = z.union([
  z.object({ value: z.number() }).strict().describe("A reduction's result."),
  z
    .object({ outputs: z.record(z.string(), z.union([f32Array(), i32Array(), u32Array()])) })
    .strict()
    .describe("An elementwise kernel's output arrays by name."),
]);

type Dtype = 'f32' | 'i32' | 'u32';

type ReductionArgs = Readonly<Record<string, ReductionArgDescriptor>>;

const arrayTypes = { f32: Float32Array, i32: Int32Array, u32: Uint32Array } as const;

/**
 * Builds the built-in task that runs a PyCUDA-style kernel sent as data: an elementwise or reduction spec (WGSL
 * expressions, argument declarations) plus its argument values. It lets a client in any language run a kernel over
 * HTTP without deploying code, so it is off unless a worker enables it (`adHocKernels`).
 *
 * The safety model: the WGSL runs in the GPU executor process, never in the worker; WebGPU bounds-checks every buffer
 * access, so a kernel can read and write only its own arguments; the text, the array sizes and the job's time are
 * limited, and a job past its time limit kills the executor (which the next job replaces).
 */
export function createAdHocKernelTask(limits: AdHocKernelLimits): TaskDefinition {
  return defineTask({
    name: adHocKernelTaskName,
    description: 'Runs an elementwise or reduction kernel sent as data (WGSL expressions plus arrays) on the GPU.',
    input: adHocKernelInput,
    output: adHocKernelOutput,
    resources: { gpu: 1 },
    isolation: 'inline',
    limits: { hard: limits.timeLimitMs },
    handler: async (spec, ctx) => {
      // Loaded here, like the executor: a worker that never runs GPU work never loads the GPU package.
      const { elementwise, reduction } = await import('@celeriac/gpu');
      assertNoHalfPrecision(spec.args);
      const values = toKernelValues(spec.args, spec.values, limits.maxElements);
      const preamble = spec.preamble === undefined ? {} : { preamble: spec.preamble };
      // The declarations are checked by the builders at run time; their static types are for hand-written kernels.
      const args = spec.args as Readonly<Record<string, ArgDescriptor>>;
      if (spec.kind === 'reduction') {
        const { dtype, neutral, map, reduce } = spec;
        const kernel = reduction({ name: 'ad_hoc_reduction', dtype, neutral, map, reduce, args: args as ReductionArgs, ...preamble });
        return { value: await ctx.gpu.run(kernel, values as KernelArgs<ReductionArgs>) };
      }
      const kernel = elementwise({ name: 'ad_hoc_elementwise', operation: spec.operation, args, ...preamble });
      const outputs = await ctx.gpu.run(kernel, values as KernelArgs<typeof args>, spec.range && { range: omitUndefined(spec.range) });
      // f16 declarations were refused above, so every output is one of these.
      return { outputs: outputs as Record<string, Float32Array | Int32Array | Uint32Array> };
    },
  }) as TaskDefinition;
}

/**
 * Turns the submitted values into the typed arrays the declaration asks for (the same bytes, read as its dtype),
 * and enforces the element limit. The kernel's own checks (missing arguments, lengths, ranges) follow in `run`.
 * @throws CeleriacError `CELERIAC_INVALID_INPUT` naming the value
 */
function toKernelValues(
  args: Readonly<Record<string, string>>,
  values: Readonly<Record<string, number | ArrayBufferView>>,
  maxElements: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'number') {
      out[name] = value;
      continue;
    }
    const dtype = /^(f32|i32|u32)\[\]$/.exec(args[name]?.trim() ?? '')?.[1] as Dtype | undefined;
    if (dtype === undefined) {
      throw invalidInput(`values.${name}`, `is an array, but args declares "${name}" as ${JSON.stringify(args[name])}; declare it 'f32[]', 'i32[]' or 'u32[]'`);
    }
    if (value.byteLength % 4 !== 0) {
      throw invalidInput(`values.${name}`, `has ${value.byteLength} bytes, not a whole number of 4-byte ${dtype} elements`);
    }
    const length = value.byteLength / 4;
    if (length > maxElements) {
      throw invalidInput(`values.${name}`, `has ${length} elements, more than this worker's limit of ${maxElements} (adHocKernels.maxElements)`);
    }
    // A copy aligned for the target type: the submitted bytes may sit at any offset of their buffer.
    const aligned = new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
    out[name] = new arrayTypes[dtype](aligned.buffer);
  }
  return out;
}

/**
 * Refuses `f16` declarations: over HTTP an array's type comes from its declaration, and half-precision arrays have
 * no typed array of their own in JavaScript, so ad-hoc kernels keep to the 32-bit types.
 * @throws CeleriacError `CELERIAC_INVALID_INPUT` naming the argument
 */
function assertNoHalfPrecision(args: Readonly<Record<string, string>>): void {
  const half = Object.entries(args).find(([, descriptor]) => descriptor.includes('f16'));
  if (half === undefined) return;
  throw invalidInput(
    `args.${half[0]}`,
    `is ${JSON.stringify(half[1])}; ad-hoc kernels take f32, i32 and u32 (convert f16 data to f32)`,
  );
}

/** The error for a bad part of a kernel's input, at `input.<field>`. */
function invalidInput(field: string, problem: string): CeleriacError {
  const path = `input.${field}`;
  return new CeleriacError(ErrorCode.InvalidInput, `Invalid ad-hoc kernel: ${path} ${problem}.`, {
    details: { issues: [{ path, message: problem }] },
  });
}
