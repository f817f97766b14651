import { CeleriacError, ErrorCode } from '@celeriac/core';
import type { DeviceArrayRef } from '../kernels/device-array-ref.js';
import type { Dtype, TypedArrayFor } from '../kernels/dtype.js';
import type { KernelSpec } from '../kernels/kernel-spec.js';
import { resolveKernelArgs } from '../kernels/resolve-kernel-args.js';
import { arithmeticKernel, reductionKernel, type ArithmeticOp, type ReductionOp } from './gpu-array-kernels.js';
import type { ExecutorChild } from './executor-child.js';
import { RequestType, type ExecutorCall } from './executor-protocol.js';

/** Per-call options of `GpuArray` methods: a signal that stops the call, as for `executor.run`. */
export interface GpuArrayCallOptions {
  readonly signal?: AbortSignal;
}

/**
 * An array that lives on the GPU, held by the executor process and referenced by handle, like PyOpenCL's
 * `pyopencl.array.Array`: arithmetic makes new device arrays without moving data, reductions bring back one number,
 * and `download()` brings back the elements. Made by `executor.upload(typedArray)`; also accepted wherever a kernel
 * takes an input array (`executor.run(kernel, { x: gpuArray })`), with no upload.
 *
 * An array dies with its executor process (a crash, an abort, `close()`) or device (a device loss): using it then
 * fails with the retryable `CELERIAC_GPU_EXECUTOR_CRASHED` or `CELERIAC_GPU_DEVICE_LOST`, and the data must be
 * uploaded again. Call `release()` when done; garbage collection releases forgotten arrays too, but late.
 */
export interface GpuArray<D extends Dtype = Dtype> {
  readonly dtype: D;
  readonly length: number;
  /** Reads the elements back. */
  download(options?: GpuArrayCallOptions): Promise<TypedArrayFor<D>>;
  /** `this[i] + other[i]` (or `+ other` for a number), as a new array. Integer arithmetic wraps, as in WGSL. */
  add(other: GpuArray<D> | number, options?: GpuArrayCallOptions): Promise<GpuArray<D>>;
  /** `this[i] - other[i]` (or `- other`), as a new array. */
  sub(other: GpuArray<D> | number, options?: GpuArrayCallOptions): Promise<GpuArray<D>>;
  /** `this[i] * other[i]` (or `* other`), as a new array. */
  mul(other: GpuArray<D> | number, options?: GpuArrayCallOptions): Promise<GpuArray<D>>;
  /** `this[i] / other[i]` (or `/ other`), as a new array. Integer division truncates; by zero it gives `this[i]`. */
  div(other: GpuArray<D> | number, options?: GpuArrayCallOptions): Promise<GpuArray<D>>;
  /** The sum of the elements (0 for an empty array). Integer sums wrap. */
  sum(options?: GpuArrayCallOptions): Promise<number>;
  /** The sum of `this[i] * other[i]`. */
  dot(other: GpuArray<D>, options?: GpuArrayCallOptions): Promise<number>;
  /** The least element; an empty array has none, so it is refused. */
  min(options?: GpuArrayCallOptions): Promise<number>;
  /** The greatest element; an empty array has none, so it is refused. */
  max(options?: GpuArrayCallOptions): Promise<number>;
  /** Frees the device memory. Safe to call twice; the array cannot be used afterwards. */
  release(): Promise<void>;
}

/** What a `GpuArray` needs from its executor. */
export interface GpuArrayHost {
  /** Sends GPU work to `child`, under the executor's `callTimeout` and the caller's signal. */
  send(child: ExecutorChild, call: ExecutorCall, what: string, signal: AbortSignal | undefined): Promise<unknown>;
  /** Releases the array when it is garbage collected; `unregister` on an explicit release. */
  readonly finalizer: FinalizationRegistry<{ readonly child: ExecutorChild; readonly handle: number }>;
}

/** The {@link GpuArray} implementation; one per device array handle. */
export class DeviceArray<D extends Dtype> implements GpuArray<D> {
  private released = false;

  constructor(
    private readonly host: GpuArrayHost,
    readonly child: ExecutorChild,
    readonly ref: DeviceArrayRef,
  ) {
    host.finalizer.register(this, { child, handle: ref.handle }, this);
  }

  get dtype(): D {
    return this.ref.dtype as D;
  }

  get length(): number {
    return this.ref.length;
  }

  async download(options: GpuArrayCallOptions = {}): Promise<TypedArrayFor<D>> {
    this.assertUsable();
    const call = { type: RequestType.Download, ref: this.ref } as const;
    return (await this.host.send(this.child, call, 'GpuArray.download', options.signal)) as TypedArrayFor<D>;
  }

  add(other: GpuArray<D> | number, options?: GpuArrayCallOptions): Promise<GpuArray<D>> {
    return this.arithmetic('add', other, options);
  }

  sub(other: GpuArray<D> | number, options?: GpuArrayCallOptions): Promise<GpuArray<D>> {
    return this.arithmetic('sub', other, options);
  }

  mul(other: GpuArray<D> | number, options?: GpuArrayCallOptions): Promise<GpuArray<D>> {
    return this.arithmetic('mul', other, options);
  }

  div(other: GpuArray<D> | number, options?: GpuArrayCallOptions): Promise<GpuArray<D>> {
    return this.arithmetic('div', other, options);
  }

  sum(options?: GpuArrayCallOptions): Promise<number> {
    return this.reduce('sum', {}, options);
  }

  dot(other: GpuArray<D>, options?: GpuArrayCallOptions): Promise<number> {
    return this.reduce('dot', { y: this.operand(other, 'dot') }, options);
  }

  min(options?: GpuArrayCallOptions): Promise<number> {
    return this.reduce('min', {}, options);
  }

  max(options?: GpuArrayCallOptions): Promise<number> {
    return this.reduce('max', {}, options);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.host.finalizer.unregister(this);
    // A dead process took its arrays with it; there is nothing left to free.
    if (!this.child.live) return;
    await this.child.request({ type: RequestType.Release, handle: this.ref.handle }).catch(() => undefined);
  }

  /** The ref to send for this array, after checking that it can still be used on `child`. */
  refFor(child: ExecutorChild): DeviceArrayRef {
    this.assertUsable();
    if (child !== this.child) throw this.goneError();
    return this.ref;
  }

  private async arithmetic(op: ArithmeticOp, other: GpuArray<D> | number, options?: GpuArrayCallOptions): Promise<GpuArray<D>> {
    const operand = typeof other === 'number' ? { s: other } : { y: this.operand(other, op) };
    const spec = arithmeticKernel(op, this.dtype, typeof other === 'number' ? 'scalar' : 'array');
    const { z } = (await this.runOnDevice(spec, operand, true, options)) as { z: DeviceArrayRef };
    return new DeviceArray<D>(this.host, this.child, z);
  }

  private async reduce(op: ReductionOp, operand: Record<string, DeviceArrayRef>, options?: GpuArrayCallOptions): Promise<number> {
    if ((op === 'min' || op === 'max') && this.length === 0) {
      throw new CeleriacError(
        ErrorCode.KernelInvalidArguments,
        `GpuArray.${op}() of an empty array has no value. Check the length before asking for its ${op}.`,
        { details: { op } },
      );
    }
    return (await this.runOnDevice(reductionKernel(op, this.dtype), operand, false, options)) as number;
  }

  private runOnDevice(
    spec: KernelSpec,
    operand: Readonly<Record<string, DeviceArrayRef | number>>,
    keepOutputs: boolean,
    options: GpuArrayCallOptions = {},
  ): Promise<unknown> {
    this.assertUsable();
    // Checked like any run's arguments: a scalar out of the dtype's range is refused with its name.
    const { values } = resolveKernelArgs(spec, { x: this.ref, ...operand });
    const call = { type: RequestType.Run, spec, args: values, keepOutputs } as const;
    return this.host.send(this.child, call, `kernel "${spec.name}"`, options.signal);
  }

  /** Checks that `other` can be combined with this array: same executor process, dtype and length. */
  private operand(other: GpuArray<D>, op: string): DeviceArrayRef {
    if (!(other instanceof DeviceArray)) {
      throw invalid(`GpuArray.${op}() takes a GpuArray made by executor.upload() or a number; got ${typeof other}.`);
    }
    const ref = other.refFor(other.child);
    if (other.child !== this.child) {
      throw invalid(`GpuArray.${op}() combines arrays of one executor; this one's operand lives in another. Upload it there.`);
    }
    if (ref.dtype !== this.dtype || ref.length !== this.length) {
      throw invalid(
        `GpuArray.${op}() needs arrays of the same dtype and length; got ${this.dtype}[${this.length}] and ` +
          `${ref.dtype}[${ref.length}]. Convert or slice on the host first.`,
      );
    }
    return ref;
  }

  private assertUsable(): void {
    if (this.released) throw invalid('This GpuArray was released, so its device memory is gone. Keep it until you are done with it.');
    if (!this.child.live) throw this.goneError();
  }

  private goneError(): CeleriacError {
    return new CeleriacError(
      ErrorCode.GpuExecutorCrashed,
      `This GpuArray (${this.dtype}, ${this.length} elements) lived in GPU executor process ${this.child.pid}, which has ` +
        'ended (it crashed, was killed to stop an aborted call, or the executor was closed), and its data went with ' +
        'it. Upload the data again (retry the job).',
      { details: { pid: this.child.pid, handle: this.ref.handle }, retryable: true },
    );
  }
}

function invalid(message: string): CeleriacError {
  return new CeleriacError(ErrorCode.KernelInvalidArguments, message);
}
