import type {} from 'webgpu';
import { CeleriacError, ErrorCode } from '@celeriac/core';
import type { DeviceArrayRef } from '../kernels/device-array-ref.js';
import { bytesOf, typedArrayConstructorFor, type Dtype, type KernelArray } from '../kernels/dtype.js';
import type { BufferPool } from './buffer-pool.js';

/** Usage of every storage buffer: bound to kernels, written by uploads and clears, copied out by read-backs. */
export const storageUsage = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** WebGPU copies and writes move whole 4-byte words; sizes are rounded up to them. */
export function wordAligned(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

/** A storage buffer's size for `bytes` of data: whole words, and at least one, since zero-sized bindings are invalid. */
export function storageBufferBytes(bytes: number): number {
  return Math.max(wordAligned(bytes), 4);
}

/**
 * Writes a typed array at the start of `buffer`. `writeBuffer` moves whole words, so an odd number of f16 elements is
 * written from a padded copy.
 */
export function writeArray(device: GPUDevice, buffer: GPUBuffer, data: KernelArray): void {
  if (data.byteLength === 0) return;
  if (data.byteLength % 4 === 0) return device.queue.writeBuffer(buffer, 0, data);
  const padded = new Uint8Array(wordAligned(data.byteLength));
  padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  device.queue.writeBuffer(buffer, 0, padded);
}

/** Copies the first `length` elements out of a mapped staging buffer and unmaps it. */
export function readMapped(staging: GPUBuffer, dtype: Dtype, length: number): KernelArray {
  const array = new (typedArrayConstructorFor(dtype))(staging.getMappedRange().slice(0, length * bytesOf(dtype)));
  staging.unmap();
  return array;
}

interface DeviceArrayEntry {
  /** The pool of the device the array lives on, which takes its buffer back on release. */
  readonly pool: BufferPool;
  readonly buffer: GPUBuffer;
  readonly dtype: Dtype;
  readonly length: number;
}

/**
 * The device-resident arrays of one executor process (the `GpuArray`s of the parent), by handle. Each belongs to
 * the device it was made on, whose buffer pool is passed to every method: after a device loss its buffer is gone,
 * and using it fails with the retryable `CELERIAC_GPU_DEVICE_LOST`.
 */
export class DeviceArrays {
  private readonly entries = new Map<number, DeviceArrayEntry>();
  private nextHandle = 1;

  /** How many arrays are held, for stats. */
  get count(): number {
    return this.entries.size;
  }

  /** Takes ownership of `buffer` (a run's output, from `pool`) as a new array. */
  adopt(pool: BufferPool, buffer: GPUBuffer, dtype: Dtype, length: number): DeviceArrayRef {
    const handle = this.nextHandle++;
    this.entries.set(handle, { pool, buffer, dtype, length });
    return { deviceArray: true, handle, dtype, length };
  }

  /** Copies `data` into a buffer from `pool`; the copy covers every byte a kernel may read, so reuse is safe. */
  upload(pool: BufferPool, data: KernelArray, dtype: Dtype): DeviceArrayRef {
    const buffer = pool.acquire(storageBufferBytes(data.byteLength), storageUsage(), 'celeriac GpuArray');
    writeArray(pool.device, buffer, data);
    return this.adopt(pool, buffer, dtype, data.length);
  }

  /** Reads an array back into a new typed array. */
  async download(pool: BufferPool, ref: DeviceArrayRef): Promise<KernelArray> {
    const { buffer, dtype, length } = this.entry(pool, ref);
    const bytes = wordAligned(length * bytesOf(dtype));
    if (bytes === 0) return new (typedArrayConstructorFor(dtype))(0);
    const device = pool.device;
    const staging = pool.acquire(bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'celeriac GpuArray download');
    try {
      const encoder = device.createCommandEncoder({ label: 'celeriac GpuArray download' });
      encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      return readMapped(staging, dtype, length);
    } finally {
      // Mapped means the copy completed; after a failure the pool destroys a still-mapped buffer.
      pool.release([staging]);
    }
  }

  /** The buffer behind `ref`, to bind in a run on the device of `pool`. */
  buffer(pool: BufferPool, ref: DeviceArrayRef): GPUBuffer {
    return this.entry(pool, ref).buffer;
  }

  /**
   * Frees an array, giving its buffer back to its pool once the work queued so far is done (a run that kept its
   * outputs returns before its GPU work completes). Unknown handles are ignored, so a release racing a device loss
   * is harmless.
   */
  release(handle: number): void {
    const entry = this.entries.get(handle);
    entry?.pool.releaseAfterSubmittedWork([entry.buffer]);
    this.entries.delete(handle);
  }

  private entry(pool: BufferPool, ref: DeviceArrayRef): DeviceArrayEntry {
    const entry = this.entries.get(ref.handle);
    if (entry !== undefined && entry.pool === pool) return entry;
    if (entry !== undefined) {
      this.entries.delete(ref.handle);
      throw new CeleriacError(
        ErrorCode.GpuDeviceLost,
        `A GpuArray (${ref.dtype}, ${ref.length} elements) was on a GPU device that has since been lost, so its data ` +
          'is gone. Upload the data again (retry the job).',
        { details: { handle: ref.handle } },
      );
    }
    throw new CeleriacError(
      ErrorCode.Internal,
      `The GPU executor holds no array with handle ${ref.handle}. This is a celeriac bug; please report it.`,
      { details: { handle: ref.handle } },
    );
  }
}
