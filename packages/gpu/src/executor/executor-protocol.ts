import type { SerializedError } from '@celeriac/core';
import type { GpuFeature } from '../kernels/gpu-feature.js';
import type { KernelSpec } from '../kernels/kernel-spec.js';
import type { KernelArgValues } from '../kernels/resolve-kernel-args.js';
import type { ResolvedKernelRange } from '../kernels/kernel-range.js';
import type { DeviceArrayRef } from '../kernels/device-array-ref.js';
import type { Dtype, KernelArray } from '../kernels/dtype.js';

/** The executor options the process itself applies, passed as its command-line argument (JSON). */
export interface ExecutorProcessOptions {
  readonly disabledFeatures: readonly GpuFeature[];
  readonly bufferPoolBytes: number;
}

/** What the parent asks the executor process to do. */
export const RequestType = {
  Describe: 'describe',
  Stats: 'stats',
  Run: 'run',
  Upload: 'upload',
  Download: 'download',
  Release: 'release',
} as const;

/** A request without its id, as the parent's callers build it. */
export type ExecutorCall =
  | { readonly type: typeof RequestType.Describe }
  | { readonly type: typeof RequestType.Stats }
  | {
      readonly type: typeof RequestType.Run;
      readonly spec: KernelSpec;
      readonly args: KernelArgValues;
      /** Leave the `out` arrays on the device and answer with their refs (for `GpuArray` operations). */
      readonly keepOutputs?: boolean;
      /** The indices to run for; default every index. */
      readonly range?: ResolvedKernelRange;
    }
  | { readonly type: typeof RequestType.Upload; readonly data: KernelArray; readonly dtype: Dtype }
  | { readonly type: typeof RequestType.Download; readonly ref: DeviceArrayRef }
  | { readonly type: typeof RequestType.Release; readonly handle: number };

/**
 * A message from the parent to the executor process. The id pairs it with its reply, because replies can come back
 * in any order (a `describe` answers while a long run is queued).
 */
export type ExecutorRequest = ExecutorCall & { readonly id: number };

/**
 * A message from the executor process to the parent. Errors travel in their wire form and are rebuilt with
 * `deserializeError`, since the structured clone of IPC would drop an Error's code and details.
 */
export type ExecutorReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/** Whether an IPC message is an {@link ExecutorReply}; anything else is ignored rather than trusted. */
export function isExecutorReply(message: unknown): message is ExecutorReply {
  if (typeof message !== 'object' || message === null) return false;
  const reply = message as Record<string, unknown>;
  return typeof reply['id'] === 'number' && typeof reply['ok'] === 'boolean';
}
