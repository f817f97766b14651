import type { SerializedError } from '@celeriac/core';
import type { KernelSpec } from '../kernels/kernel-spec.js';
import type { KernelArgValues } from '../kernels/resolve-kernel-args.js';

/** What the parent asks the executor process to do. */
export const RequestType = {
  Describe: 'describe',
  Stats: 'stats',
  Run: 'run',
} as const;

/** A request without its id, as the parent's callers build it. */
export type ExecutorCall =
  | { readonly type: typeof RequestType.Describe }
  | { readonly type: typeof RequestType.Stats }
  | { readonly type: typeof RequestType.Run; readonly spec: KernelSpec; readonly args: KernelArgValues };

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
