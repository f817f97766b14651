import type {} from 'webgpu';
import { CeleriacError, ErrorCode } from '@celeriac/core';
import { bytesPerElement, typedArrayConstructorFor, type Dtype, type KernelArray } from '../kernels/dtype.js';
import { KernelKind, paramsBinding, type KernelSpec, type ReductionSpec } from '../kernels/kernel-spec.js';
import type { KernelArgValues } from '../kernels/resolve-kernel-args.js';
import type { CompiledKernel } from './compile-kernel.js';
import { foldWorkgroups, type WorkgroupGrid } from './fold-workgroups.js';

/** What a kernel run resolves to: output arrays by name (elementwise) or the reduced value (reduction). */
export type KernelResult = Record<string, KernelArray> | number;

/**
 * Most workgroups a reduction's first pass launches. Enough to fill a large GPU; the grid-stride loop covers the
 * rest, and the second pass then has at most this many partials to fold in one workgroup.
 */
const maxReductionWorkgroups = 1024;

/**
 * Runs a compiled kernel once: uploads the inputs, encodes every dispatch and copy in one submit, and reads each
 * result back through its own mapped staging buffer. Every buffer is destroyed before this returns.
 *
 * @param args - arguments already checked by `resolveKernelArgs` in the calling process
 */
export async function runKernel(
  device: GPUDevice,
  kernel: CompiledKernel,
  spec: KernelSpec,
  args: KernelArgValues,
): Promise<KernelResult> {
  const n = elementCount(spec, args);
  assertFitsDevice(device, spec, n);
  const outputs = spec.arrays.filter((slot) => slot.output);
  if (spec.kind === KernelKind.Elementwise && n === 0) {
    return Object.fromEntries(outputs.map((slot) => [slot.name, new (typedArrayConstructorFor(slot.dtype))(0)]));
  }
  const run = new KernelRun(device, kernel, spec, args, n);
  try {
    if (spec.kind === KernelKind.Reduction) {
      const [result] = await run.execute([{ binding: spec.resultBinding, dtype: spec.dtype, length: 1 }]);
      return (result as KernelArray)[0] as number;
    }
    const arrays = await run.execute(outputs.map((slot) => ({ binding: slot.binding, dtype: slot.dtype, length: n })));
    return Object.fromEntries(outputs.map((slot, index) => [slot.name, arrays[index] as KernelArray]));
  } finally {
    run.destroy();
  }
}

interface Readback {
  readonly binding: number;
  readonly dtype: Dtype;
  readonly length: number;
}

function elementCount(spec: KernelSpec, args: KernelArgValues): number {
  const input = spec.arrays.find((slot) => !slot.output);
  const value = input === undefined ? undefined : args[input.name];
  return typeof value === 'object' ? value.length : 0;
}

function assertFitsDevice(device: GPUDevice, spec: KernelSpec, n: number): void {
  const bytes = n * bytesPerElement;
  const limit = device.limits.maxStorageBufferBindingSize;
  if (bytes <= limit) return;
  throw new CeleriacError(
    ErrorCode.KernelInvalidArguments,
    `Kernel "${spec.name}" got ${n} elements (${bytes} bytes per array), more than this device's ` +
      `maxStorageBufferBindingSize of ${limit} bytes. Split the input into smaller calls.`,
    { details: { kernel: spec.name, n, bytes, maxStorageBufferBindingSize: limit } },
  );
}

/** The buffers and commands of one run; `destroy()` frees every buffer it created. */
class KernelRun {
  private readonly buffers: GPUBuffer[] = [];
  private readonly bindings = new Map<number, GPUBuffer>();

  constructor(
    private readonly device: GPUDevice,
    private readonly kernel: CompiledKernel,
    private readonly spec: KernelSpec,
    private readonly args: KernelArgValues,
    private readonly n: number,
  ) {}

  /** Creates the buffers, submits the passes and resolves to one typed array per readback, in order. */
  async execute(readbacks: readonly Readback[]): Promise<KernelArray[]> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const staging = this.encodeAndSubmit(readbacks);
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
    await Promise.all(staging.map((buffer) => buffer.mapAsync(GPUMapMode.READ)));
    return staging.map((buffer, index) => {
      const { dtype, length } = readbacks[index] as Readback;
      const array = new (typedArrayConstructorFor(dtype))(buffer.getMappedRange().slice(0, length * bytesPerElement));
      buffer.unmap();
      return array;
    });
  }

  destroy(): void {
    for (const buffer of this.buffers) buffer.destroy();
  }

  private encodeAndSubmit(readbacks: readonly Readback[]): GPUBuffer[] {
    const bindGroup = this.createBindGroup();
    const encoder = this.device.createCommandEncoder({ label: this.spec.name });
    const pass = encoder.beginComputePass({ label: this.spec.name });
    pass.setBindGroup(0, bindGroup);
    pass.setPipeline(this.kernel.main);
    const grid = this.mainGrid();
    pass.dispatchWorkgroups(grid.x, grid.y);
    if (this.kernel.finish !== undefined) {
      // Dispatches in one pass see each other's storage writes, so the second pass reads every partial.
      pass.setPipeline(this.kernel.finish);
      pass.dispatchWorkgroups(1);
    }
    pass.end();
    const staging = readbacks.map((readback) => {
      const size = readback.length * bytesPerElement;
      const buffer = this.createBuffer(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      encoder.copyBufferToBuffer(this.bindings.get(readback.binding) as GPUBuffer, 0, buffer, 0, size);
      return buffer;
    });
    this.device.queue.submit([encoder.finish()]);
    return staging;
  }

  private mainGrid(): WorkgroupGrid {
    if (this.spec.kind === KernelKind.Reduction) return { x: this.reductionGroups(), y: 1 };
    const groups = Math.ceil(this.n / this.spec.workgroupSize);
    return foldWorkgroups(groups, this.device.limits.maxComputeWorkgroupsPerDimension);
  }

  /** At least one workgroup even for n = 0, so the result is `neutral` as computed by the kernel itself. */
  private reductionGroups(): number {
    return Math.min(Math.max(1, Math.ceil(this.n / this.spec.workgroupSize)), maxReductionWorkgroups);
  }

  private createBindGroup(): GPUBindGroup {
    const storage = GPUBufferUsage.STORAGE;
    this.bindings.set(paramsBinding, this.createParams());
    for (const slot of this.spec.arrays) {
      const usage = storage | (slot.output ? GPUBufferUsage.COPY_SRC : GPUBufferUsage.COPY_DST);
      const buffer = this.createBuffer(this.n * bytesPerElement, usage);
      const value = this.args[slot.name];
      if (!slot.output && typeof value === 'object' && this.n > 0) this.device.queue.writeBuffer(buffer, 0, value);
      this.bindings.set(slot.binding, buffer);
    }
    if (this.spec.kind === KernelKind.Reduction) this.bindReductionBuffers(this.spec);
    const entries = [...this.bindings].map(([binding, buffer]) => ({ binding, resource: { buffer } }));
    return this.device.createBindGroup({ label: this.spec.name, layout: this.kernel.layout, entries });
  }

  private bindReductionBuffers(spec: ReductionSpec): void {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
    this.bindings.set(spec.partialsBinding, this.createBuffer(this.reductionGroups() * bytesPerElement, usage));
    this.bindings.set(spec.resultBinding, this.createBuffer(bytesPerElement, usage));
  }

  /** The uniform block: `n` as u32, then each scalar as its dtype, 4 bytes each, little-endian like WGSL. */
  private createParams(): GPUBuffer {
    const bytes = new ArrayBuffer(Math.ceil((this.spec.scalars.length + 1) / 4) * 16);
    const view = new DataView(bytes);
    view.setUint32(0, this.n, true);
    this.spec.scalars.forEach((slot, index) => {
      const value = this.args[slot.name] as number;
      const offset = (index + 1) * bytesPerElement;
      if (slot.dtype === 'f32') view.setFloat32(offset, value, true);
      else if (slot.dtype === 'i32') view.setInt32(offset, value, true);
      else view.setUint32(offset, value, true);
    });
    const buffer = this.createBuffer(bytes.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(buffer, 0, bytes);
    return buffer;
  }

  /** Zero-sized bindings are invalid in WebGPU, so empty arrays get one spare element the kernel never reads. */
  private createBuffer(size: number, usage: number): GPUBuffer {
    const buffer = this.device.createBuffer({ label: this.spec.name, size: Math.max(size, bytesPerElement), usage });
    this.buffers.push(buffer);
    return buffer;
  }

  private outOfMemory(error: GPUError): CeleriacError {
    return new CeleriacError(
      ErrorCode.GpuUnavailable,
      `The GPU ran out of memory running kernel "${this.spec.name}" on ${this.n} elements (${error.message}). ` +
        'Retry when the device is less busy, or split the input into smaller calls.',
      { details: { kernel: this.spec.name, n: this.n }, retryable: true },
    );
  }
}
