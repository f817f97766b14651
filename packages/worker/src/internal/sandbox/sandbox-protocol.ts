import { deserializeError, isCeleriacError, serializeError, type SerializedError } from '@celeriac/core';

/**
 * The messages between the sandbox pool (parent) and a sandbox thread. Every message about a job carries the
 * `runId` the parent gave it, so a late message from a finished job (an un-awaited `ctx.log` that lands after the
 * handler returned) can never be mistaken for one from the thread's next job. Errors travel as
 * {@link SerializedError}, because the structured clone drops an Error's code, details and retry decision.
 */

/** What a thread needs to know at start, passed as `workerData`. */
export interface SandboxThreadData {
  /** File path or `file:` URL (as a string: a URL object does not survive the structured clone) of the tasks. */
  readonly tasksModule: string;
  /** Whether the parent has a GPU runner; without one `ctx.gpu` fails at once instead of asking the parent. */
  readonly hasGpu: boolean;
}

/** Parent → thread: run one job. */
export interface RunMessage {
  readonly type: 'run';
  readonly runId: number;
  readonly jobId: string;
  readonly taskName: string;
  readonly attempt: number;
  readonly input: unknown;
}

/** Parent → thread: abort `ctx.signal` of the job `runId` (soft limit, cancel, shutdown). */
export interface AbortMessage {
  readonly type: 'abort';
  readonly runId: number;
  readonly reason: EncodedReason;
}

/** Parent → thread: the answer to a {@link CallMessage}. */
export type ReplyMessage =
  | { readonly type: 'reply'; readonly callId: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly callId: number; readonly ok: false; readonly error: SerializedError };

/** A message the parent sends to a thread. */
export type ParentMessage = RunMessage | AbortMessage | ReplyMessage;

/** What a handler asks of the parent through its context. */
export type ContextCall =
  | { readonly method: 'log'; readonly line: string }
  | { readonly method: 'progress'; readonly value: number | Readonly<Record<string, unknown>> }
  | { readonly method: 'gpu'; readonly spec: Readonly<Record<string, unknown>>; readonly args: unknown };

/** Thread → parent: a context call made by the handler of job `runId`; answered with a {@link ReplyMessage}. */
export type CallMessage = ContextCall & { readonly type: 'call'; readonly runId: number; readonly callId: number };

/**
 * Thread → parent, once per thread: the handler of job `runId` starts now, and the module is loaded. Time limits count
 * from here; for the thread's later jobs they count from dispatch.
 */
export interface StartedMessage {
  readonly type: 'started';
  readonly runId: number;
}

/** Thread → parent: job `runId` settled. `heapUsedBytes` is the thread's heap afterwards, for recycling. */
export type DoneMessage = { readonly type: 'done'; readonly runId: number; readonly heapUsedBytes: number } & (
  | { readonly ok: true; readonly output: unknown }
  | { readonly ok: false; readonly error: SerializedError }
);

/** A message a thread sends to the parent. */
export type ThreadMessage = StartedMessage | CallMessage | DoneMessage;

/**
 * An abort reason in a form that survives the structured clone. Node 20 clones a `DOMException` (what
 * `controller.abort()` uses by default) to an empty object, and a CeleriacError to a plain Error, so both are sent
 * as their parts and rebuilt on the other side.
 */
export type EncodedReason =
  | { readonly kind: 'celeriac'; readonly error: SerializedError }
  | { readonly kind: 'error'; readonly name: string; readonly message: string }
  | { readonly kind: 'value'; readonly value: string | number | boolean | undefined };

/** Encodes an abort reason for {@link AbortMessage}. */
export function encodeReason(reason: unknown): EncodedReason {
  if (isCeleriacError(reason)) return { kind: 'celeriac', error: serializeError(reason) };
  // DOMException is an Error in Node, so this covers `controller.abort()`'s default AbortError too.
  if (reason instanceof Error) return { kind: 'error', name: reason.name, message: reason.message };
  const primitive = reason === undefined || ['string', 'number', 'boolean'].includes(typeof reason);
  return { kind: 'value', value: primitive ? (reason as string | number | boolean | undefined) : String(reason) };
}

/** Rebuilds an abort reason: a CeleriacError, a `DOMException` named like the original, or the primitive value. */
export function decodeReason(encoded: EncodedReason): unknown {
  switch (encoded.kind) {
    case 'celeriac':
      return deserializeError(encoded.error);
    case 'error':
      // A DOMException keeps `name` as given (AbortError, TimeoutError, TypeError…), which is what handlers test.
      return new DOMException(encoded.message, encoded.name);
    case 'value':
      return encoded.value;
  }
}
