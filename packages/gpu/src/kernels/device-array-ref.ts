import type { Dtype } from './dtype.js';

/**
 * A run argument that names an array already on the device (a `GpuArray`'s buffer in the executor process) instead
 * of carrying its elements. Plain data, so it crosses the process boundary; the executor binds the buffer it holds
 * under `handle`, with no upload.
 */
export interface DeviceArrayRef {
  readonly deviceArray: true;
  readonly handle: number;
  readonly dtype: Dtype;
  readonly length: number;
}

/** Whether a run argument is a {@link DeviceArrayRef} rather than a typed array or a number. */
export function isDeviceArrayRef(value: unknown): value is DeviceArrayRef {
  return typeof value === 'object' && value !== null && (value as Partial<DeviceArrayRef>).deviceArray === true;
}
