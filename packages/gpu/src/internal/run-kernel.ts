import type {} from 'webgpu';
import { CeleriacError, ErrorCode } from '@celeriac/core';
import { bytesOf, typedArrayConstructorFor, type Dtype, type KernelArray } from '../kernels/dtype.js';
import { GridKind, ResultKind, paramsBinding, workgroupSize, type GridRule, type KernelSpec, type ScratchSlot } from '../kernels/kernel-spec.js';
import { isDeviceArrayRef, type DeviceArrayRef } from '../kernels/device-array-ref.js';
import { fromHalfBits } from '../kernels/half-bits.js';
import { isCommonLength, type KernelArgValues } from '../kernels/resolve-kernel-args.js';
import { everyIndex, type ResolvedKernelRange } from '../kernels/kernel-range.js';
import { readMapped, storageBufferBytes, storageUsage, wordAligned, writeArray, type DeviceArrays } from './device-arrays.js';
import type { BufferPool } from './buffer-pool.js';
import { createRunSizes, evaluateSize, type RunSizes } from '../kernels/run-sizes.js';
import type { CompiledKernel } from './compile-kernel.js';
import { foldWorkgroups, type WorkgroupGrid } from './fold-workgroups.js';

/** What a kernel run resolves to, as the spec's result rule says; kept outputs are device arrays. */
export type KernelResult =
  | Record<string, KernelArray | DeviceArrayRef>
  | number
  | KernelArray
  | { readonly values: KernelArray; readonly count: number };

/** What one run produced: its result, and its GPU time where the device records timestamps. */
export interface KernelRunOutcome {
  readonly result: KernelResult;
  /** Nanoseconds from the start of the first pass to the end of the last, or `undefined` without timestamps. */
  readonly gpuTimeNs: number | undefined;
}

/** What a run uses beside its kernel and arguments: per-device objects owned by the runtime. */
export interface RunContext {
  /** A two-slot timestamp query set, where the device has `timestamp-query`; one run at a time uses it. */
  readonly timestamps: GPUQuerySet | undefined;
  /** The process's device arrays: bound where a run argument is a {@link DeviceArrayRef}, and where outputs are kept. */
  readonly arrays: DeviceArrays;
  /** The device's buffer pool, which every buffer of a run comes from and goes back to. */
  readonly pool: BufferPool;
}

/** How a run treats its kernel beyond the arguments. */
export interface KernelRunOptions {
  /** Leave the `out` arrays on the device as new device arrays; the result holds their refs. */
  readonly keepOutputs: boolean;
  /** The indices to run for, checked by `resolveKernelRange` in the calling process; default every index. */
  readonly range: ResolvedKernelRange | undefined;
}

/** Bytes of the two resolved timestamps (begin, end), each a u64 of nanoseconds. */
const timestampBytes = 16;

/** A buffer to copy back after the passes, and how to view its bytes. */
interface Readback {
  readonly binding: number;
  readonly dtype: Dtype;
  readonly length: number;
}

/**
 * Runs a compiled kernel once: uploads the inputs, encodes every pass of the spec as a dispatch in one compute pass
 * and one submit, and reads each result buffer back through its own mapped staging buffer. With timestamps, the
 * compute pass records its start and end, resolved and read back in the same submit. Device-array arguments are
 * bound as they are, with no copy. With `keepOutputs`, the `out` arrays are not read back but stay on the device as
 * new device arrays, and the result holds their refs. Every other buffer goes back to the pool: at once when a
 * read-back resolved (the submit completed), else once the queue's submitted work is done. A kernel that accepts a
 * range gets it (or every index) in its uniform block.
 *
 * Pooled buffers hold stale data, so a run writes every byte it lets a kernel read: inputs and the uniform block
 * are uploaded whole, `out` arrays are cleared (an output statement may skip elements), and every builder's
 * scratch buffers are fully written by its passes before they are read.
 *
 * @param args - arguments already checked by `resolveKernelArgs` in the calling process
 * @param options - `keepOutputs` only for specs whose result is their `out` arrays
 */
export async function runKernel(
  device: GPUDevice,
  kernel: CompiledKernel,
  spec: KernelSpec,
  args: KernelArgValues,
  context: RunContext,
  { keepOutputs, range }: KernelRunOptions,
): Promise<KernelRunOutcome> {
  const n = elementCount(spec, args);
  const indices = range ?? everyIndex(n);
  const run = new KernelRun(device, kernel, spec, args, runSizesOf(spec, args, n, indices), indices, context);
  try {
    const readbacks = readbacksOf(spec, run.sizes);
    const { arrays, gpuTimeNs } = await run.execute(keepOutputs ? [] : readbacks);
    return { result: shapeResult(spec, keepOutputs ? run.keep(readbacks) : arrays), gpuTimeNs };
  } finally {
    run.release();
  }
}

/** The run's element count `n`: the length of its input arrays of the common length, or 0 without any. */
function elementCount(spec: KernelSpec, args: KernelArgValues): number {
  const common = spec.arrays.find((slot) => !slot.output && isCommonLength(slot));
  const value = common === undefined ? undefined : args[common.name];
  return typeof value === 'object' ? value.length : 0;
}

function runSizesOf(spec: KernelSpec, args: KernelArgValues, n: number, indices: ResolvedKernelRange): RunSizes {
  const scalars: Record<string, number> = {};
  for (const slot of spec.scalars) scalars[slot.name] = args[slot.name] as number;
  return createRunSizes(n, scalars, indices.count);
}

function readbacksOf(spec: KernelSpec, sizes: RunSizes): Readback[] {
  const result = spec.result;
  if (result.kind === ResultKind.Outputs) {
    return spec.arrays
      .filter((slot) => slot.output)
      .map((slot) => ({ binding: slot.binding, dtype: slot.dtype, length: evaluateSize(slot.length, sizes) }));
  }
  const values = scratchSlot(spec, result.scratch);
  const length = result.kind === ResultKind.Value ? 1 : evaluateSize(values.length, sizes);
  const readbacks: Readback[] = [{ binding: values.binding, dtype: result.dtype, length }];
  if (result.kind === ResultKind.Compacted) {
    readbacks.push({ binding: scratchSlot(spec, result.count).binding, dtype: 'u32', length: 1 });
  }
  return readbacks;
}

function scratchSlot(spec: KernelSpec, name: string): ScratchSlot {
  const slot = spec.scratch.find((candidate) => candidate.name === name);
  if (slot !== undefined) return slot;
  throw new CeleriacError(
    ErrorCode.Internal,
    `Kernel "${spec.name}" reads back a scratch buffer "${name}" it does not declare. Rebuild the kernel with this version's builders.`,
  );
}

function shapeResult(spec: KernelSpec, arrays: readonly (KernelArray | DeviceArrayRef)[]): KernelResult {
  if (spec.result.kind === ResultKind.Outputs) {
    const outputs = spec.arrays.filter((slot) => slot.output);
    return Object.fromEntries(outputs.map((slot, index) => [slot.name, arrays[index] as KernelArray]));
  }
  const [first, second] = arrays as [KernelArray, KernelArray | undefined];
  switch (spec.result.kind) {
    case ResultKind.Value:
      // A number is a number: an f16 value comes back as its value, not as its half-precision bits.
      return spec.result.dtype === 'f16' ? (fromHalfBits(first as Uint16Array)[0] as number) : (first[0] as number);
    case ResultKind.Array:
      return first;
    case ResultKind.Compacted: {
      const count = second?.[0] ?? 0;
      return { values: first.slice(0, count), count };
    }
  }
}

/**
 * The nanoseconds between the two mapped timestamps. Some GPUs reset or reorder their counters between the two
 * writes; a negative span is reported as 0 rather than as a huge unsigned number.
 */
function readGpuTimeNs(staging: GPUBuffer): number {
  const [begin = 0n, end = 0n] = new BigUint64Array(staging.getMappedRange());
  staging.unmap();
  return end > begin ? Number(end - begin) : 0;
}

/** The buffers and commands of one run; `release()` gives every buffer it took back to the pool. */
class KernelRun {
  private readonly buffers: GPUBuffer[] = [];
  /** Set once a read-back resolved: the run's one submit completed, so its buffers are free for the next run. */
  private completed = false;
  private readonly bindings = new Map<number, { buffer: GPUBuffer; size: number }>();

  constructor(
    private readonly device: GPUDevice,
    private readonly kernel: CompiledKernel,
    private readonly spec: KernelSpec,
    private readonly args: KernelArgValues,
    readonly sizes: RunSizes,
    private readonly range: ResolvedKernelRange,
    private readonly context: RunContext,
  ) {}

  /** Creates the buffers, submits the passes and resolves to one typed array per readback, in order, and the GPU time. */
  async execute(readbacks: readonly Readback[]): Promise<{ arrays: KernelArray[]; gpuTimeNs: number | undefined }> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const { staging, timestamps } = this.encodeAndSubmit(readbacks);
    const validation = await this.device.popErrorScope();
    const outOfMemory = await this.device.popErrorScope();
    if (outOfMemory !== null) throw this.outOfMemory(outOfMemory);
    if (validation !== null) {
      throw new CeleriacError(
        ErrorCode.Internal,
        `Kernel "${this.spec.name}" was rejected by WebGPU validation: ${validation.message}. This is a celeriac bug; please report it with the kernel.`,
        { details: { kernel: this.spec.name, wgsl: this.spec.wgsl } },
      );
    }
    const mapped = [...staging, timestamps].filter((buffer) => buffer !== undefined);
    await Promise.all(mapped.map((buffer) => buffer.mapAsync(GPUMapMode.READ)));
    this.completed = mapped.length > 0;
    const arrays = staging.map((buffer, index) => {
      const { dtype, length } = readbacks[index] as Readback;
      return buffer === undefined ? new (typedArrayConstructorFor(dtype))(0) : readMapped(buffer, dtype, length);
    });
    return { arrays, gpuTimeNs: timestamps === undefined ? undefined : readGpuTimeNs(timestamps) };
  }

  /** Gives the run's buffers back to the pool, now if its submit is known to have completed. */
  release(): void {
    const pool = this.context.pool;
    if (this.completed) pool.release(this.buffers);
    else pool.releaseAfterSubmittedWork(this.buffers);
  }

  /** Hands the readbacks' buffers to the device arrays instead of reading them, in order; `release()` spares them. */
  keep(readbacks: readonly Readback[]): DeviceArrayRef[] {
    return readbacks.map(({ binding, dtype, length }) => {
      const buffer = this.bindings.get(binding)?.buffer as GPUBuffer;
      this.buffers.splice(this.buffers.indexOf(buffer), 1);
      return this.context.arrays.adopt(this.context.pool, buffer, dtype, length);
    });
  }

  /**
   * Encodes every pass, the readback copies and the timestamp resolve; empty readbacks get no staging buffer
   * (`undefined`), and the timestamps a staging buffer of their own where the device records them.
   */
  private encodeAndSubmit(readbacks: readonly Readback[]): {
    staging: (GPUBuffer | undefined)[];
    timestamps: GPUBuffer | undefined;
  } {
    const bindGroup = this.createBindGroup();
    const encoder = this.device.createCommandEncoder({ label: this.spec.name });
    this.clearOutputs(encoder);
    const querySet = this.context.timestamps;
    // One compute pass holds every dispatch, so its start and end bracket the whole kernel and nothing else.
    const timestampWrites = querySet && { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
    const pass = encoder.beginComputePass({ label: this.spec.name, ...(timestampWrites && { timestampWrites }) });
    pass.setBindGroup(0, bindGroup);
    // Dispatches in one compute pass see each other's storage writes, so each pass reads what the previous wrote.
    for (const { entryPoint, grid } of this.spec.passes) {
      const size = this.gridOf(grid);
      if (size.x === 0 || size.y === 0) continue; // nothing to do (an empty input); a zero dispatch is legal but idle
      pass.setPipeline(this.kernel.pipelines.get(entryPoint) as GPUComputePipeline);
      pass.dispatchWorkgroups(size.x, size.y);
    }
    pass.end();
    const staging = readbacks.map(({ binding, dtype, length }) => {
      const size = wordAligned(length * bytesOf(dtype));
      if (size === 0) return undefined;
      const buffer = this.createBuffer(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      encoder.copyBufferToBuffer(this.bindings.get(binding)?.buffer as GPUBuffer, 0, buffer, 0, size);
      return buffer;
    });
    const timestamps = querySet && this.encodeTimestampReadback(encoder, querySet);
    this.device.queue.submit([encoder.finish()]);
    return { staging, timestamps };
  }

  /**
   * Zeroes the `out` arrays before the passes: a reused buffer holds an earlier run's data, and an output statement
   * (`if (x[i] > 0.0) { z[i] = x[i]; }`, a scatter) need not write every element, so the unwritten ones read 0 as
   * they would from a new buffer.
   */
  private clearOutputs(encoder: GPUCommandEncoder): void {
    for (const slot of this.spec.arrays) {
      const output = slot.output ? this.bindings.get(slot.binding) : undefined;
      if (output !== undefined) encoder.clearBuffer(output.buffer, 0, output.size);
    }
  }

  /** Resolves the two timestamps into a buffer and copies them to a mapped staging buffer, in the run's own submit. */
  private encodeTimestampReadback(encoder: GPUCommandEncoder, querySet: GPUQuerySet): GPUBuffer {
    const resolved = this.createBuffer(timestampBytes, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
    const staging = this.createBuffer(timestampBytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, timestampBytes);
    return staging;
  }

  private gridOf(grid: GridRule): WorkgroupGrid {
    const maxPerDimension = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (grid.kind === GridKind.Threads) {
      return foldWorkgroups(Math.ceil(evaluateSize(grid.count, this.sizes) / workgroupSize), maxPerDimension);
    }
    const x = Math.ceil(evaluateSize(grid.x, this.sizes) / grid.per);
    const y = Math.ceil(evaluateSize(grid.y, this.sizes) / grid.per);
    if (x > maxPerDimension || y > maxPerDimension) {
      throw new CeleriacError(
        ErrorCode.KernelInvalidArguments,
        `Kernel "${this.spec.name}" needs a ${x} x ${y} grid of workgroups, more than this device's ` +
          `maxComputeWorkgroupsPerDimension of ${maxPerDimension}. Split the input into smaller calls.`,
        { details: { kernel: this.spec.name, x, y, maxPerDimension } },
      );
    }
    return { x, y };
  }

  private createBindGroup(): GPUBindGroup {
    this.bindParams();
    for (const slot of this.spec.arrays) {
      const size = this.storageBytes(slot.name, evaluateSize(slot.length, this.sizes) * bytesOf(slot.dtype));
      const value = this.args[slot.name];
      if (isDeviceArrayRef(value)) {
        this.bind(slot.binding, this.context.arrays.buffer(this.context.pool, value), size);
        continue;
      }
      const buffer = this.createBuffer(size, storageUsage());
      if (typeof value === 'object') writeArray(this.device, buffer, value);
      this.bind(slot.binding, buffer, size);
    }
    for (const slot of this.spec.scratch) {
      const size = this.storageBytes(slot.name, evaluateSize(slot.length, this.sizes) * slot.elementBytes);
      this.bind(slot.binding, this.createBuffer(size, storageUsage()), size);
    }
    const entries = [...this.bindings].map(([binding, { buffer, size }]) => ({ binding, resource: { buffer, size } }));
    return this.device.createBindGroup({ label: this.spec.name, layout: this.kernel.layout, entries });
  }

  /**
   * A storage buffer's binding size: its bytes rounded up to whole 4-byte words (as WebGPU requires), at least one
   * word for an empty array (zero-sized bindings are invalid; the kernel never reads it). Bound at exactly this size,
   * so `arrayLength` is the real length but for the padding of an odd number of f16 elements.
   */
  private storageBytes(name: string, bytes: number): number {
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (bytes <= limit) return storageBufferBytes(bytes);
    throw new CeleriacError(
      ErrorCode.KernelInvalidArguments,
      `Kernel "${this.spec.name}" needs ${bytes} bytes for "${name}" (n = ${this.sizes.n}), more than this device's ` +
        `maxStorageBufferBindingSize of ${limit} bytes. Split the input into smaller calls.`,
      { details: { kernel: this.spec.name, buffer: name, n: this.sizes.n, bytes, maxStorageBufferBindingSize: limit } },
    );
  }

  /** Binds `size` bytes of `buffer`: a pooled buffer may be bigger (its bucket), and kernels see only the bound part. */
  private bind(binding: number, buffer: GPUBuffer, size: number): void {
    this.bindings.set(binding, { buffer, size });
  }

  /**
   * Writes and binds the uniform block: `n` as u32, the range's start, step and count (as u32, where the kernel
   * accepts a range), then each scalar as its dtype, 4 bytes each, little-endian like WGSL. An f16 scalar is stored
   * as f32 (converted in the kernel), so every slot keeps the same 4-byte layout.
   */
  private bindParams(): void {
    const header = [this.sizes.n, ...(this.spec.acceptsRange ? [this.range.start, this.range.step, this.range.count] : [])];
    // A whole number of 16-byte rows, written whole: a pooled buffer's stale bytes are never read.
    const bytes = new ArrayBuffer(Math.ceil((header.length + this.spec.scalars.length) / 4) * 16);
    const view = new DataView(bytes);
    header.forEach((value, index) => view.setUint32(index * 4, value, true));
    this.spec.scalars.forEach((slot, index) => {
      const value = this.args[slot.name] as number;
      const offset = (header.length + index) * 4;
      if (slot.dtype === 'f32' || slot.dtype === 'f16') view.setFloat32(offset, value, true);
      else if (slot.dtype === 'i32') view.setInt32(offset, value, true);
      else view.setUint32(offset, value, true);
    });
    const buffer = this.createBuffer(bytes.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(buffer, 0, bytes);
    this.bind(paramsBinding, buffer, bytes.byteLength);
  }

  /** A buffer of at least `size` bytes from the pool; bind it with its needed size, not its (bucket) size. */
  private createBuffer(size: number, usage: number): GPUBuffer {
    const buffer = this.context.pool.acquire(size, usage, this.spec.name);
    this.buffers.push(buffer);
    return buffer;
  }

  private outOfMemory(error: GPUError): CeleriacError {
    return new CeleriacError(
      ErrorCode.GpuUnavailable,
      `The GPU ran out of memory running kernel "${this.spec.name}" on ${this.sizes.n} elements (${error.message}). ` +
        'Retry when the device is less busy, or split the input into smaller calls.',
      { details: { kernel: this.spec.name, n: this.sizes.n }, retryable: true },
    );
  }
}
