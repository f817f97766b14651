import { deserializeError, isCeleriacError, serializeError, type KernelRange, type SerializedError } from '@celeriac/core';

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

/** One job for a thread: who it is and its raw input. */
export interface RunRequest {
  readonly runId: number;
  readonly jobId: string;
  readonly taskName: string;
  readonly attempt: number;
  readonly input: unknown;
}

/**
 * Parent → thread: jobs to append to the thread's queue. The thread runs its queue in order, one job at a time. The
 * parent sends every job it assigned to a thread in the same tick as one message, which saves most of the cost of
 * the hop under load: a sleeping thread is woken once per batch, not once per job.
 */
export interface RunsMessage {
  readonly type: 'runs';
  readonly runs: readonly RunRequest[];
}

/**
 * Parent → thread: abort job `runId` (soft limit, cancel, shutdown). A running job's `ctx.signal` aborts; a job still
 * in the queue is dropped unstarted and given back with a {@link WithdrawnMessage}.
 */
export interface AbortMessage {
  readonly type: 'abort';
  readonly runId: number;
  readonly reason: EncodedReason;
}

/** Parent → thread: give back these queued jobs (to run on an idle thread); answered by a {@link WithdrawnMessage}. */
export interface WithdrawMessage {
  readonly type: 'withdraw';
  readonly runIds: readonly number[];
}

/** Parent → thread: the answer to a {@link CallMessage}. */
export type ReplyMessage =
  | { readonly type: 'reply'; readonly callId: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly callId: number; readonly ok: false; readonly error: SerializedError };

/** A message the parent sends to a thread. */
export type ParentMessage = RunsMessage | AbortMessage | WithdrawMessage | ReplyMessage;

/** What a handler asks of the parent through its context. */
export type ContextCall =
  | { readonly method: 'log'; readonly line: string }
  | { readonly method: 'progress'; readonly value: number | Readonly<Record<string, unknown>> }
  | { readonly method: 'gpu'; readonly spec: Readonly<Record<string, unknown>>; readonly args: unknown; readonly range?: KernelRange };

/** Thread → parent: a context call made by the handler of job `runId`; answered with a {@link ReplyMessage}. */
export type CallMessage = ContextCall & { readonly type: 'call'; readonly runId: number; readonly callId: number };

/**
 * Thread → parent, once, before any job: the tasks module is loaded (`ok`, with the names of its tasks), or it
 * failed to load. Jobs are sent only to a ready thread, so time limits never count a module load.
 */
export type ReadyMessage =
  | { readonly type: 'ready'; readonly ok: true; readonly tasks: readonly string[] }
  | { readonly type: 'ready'; readonly ok: false; readonly error: SerializedError };

/**
 * Thread → parent: job `runId` settled, or was dropped from the queue by an abort. `heapUsedBytes` is the thread's
 * heap afterwards, for recycling. When a running job is done, the thread starts the next one in its queue at once,
 * so the parent counts that job's time limits from this message.
 */
export type DoneMessage = { readonly type: 'done'; readonly runId: number; readonly heapUsedBytes: number } & (
  | { readonly ok: true; readonly output: unknown }
  | { readonly ok: false; readonly error: SerializedError }
);

/**
 * Thread → parent: queued jobs dropped unstarted, after a {@link WithdrawMessage} (jobs of it that are not listed had
 * started already) or an {@link AbortMessage}.
 */
export interface WithdrawnMessage {
  readonly type: 'withdrawn';
  readonly runIds: readonly number[];
}

/** A message a thread sends to the parent. */
export type ThreadMessage = ReadyMessage | CallMessage | DoneMessage | WithdrawnMessage;

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
