import type { ControlReport, ControlRequest } from '@celeriac/core';

/** How {@link ControlBus.sendControl} addresses workers and how long it waits for them. */
export interface SendControlOptions {
  /** The workers to address, by id. Default: every worker (the live ones are the ones awaited). */
  readonly workers?: readonly string[];
  /** How long to wait for replies. It returns earlier once every awaited worker answered. */
  readonly timeoutMs: number;
}

/** What a worker answers to a command: its state afterwards, or a failure. */
export type ControlHandlerResult =
  | { readonly ok: true; readonly result?: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/** A worker's handler of control commands. */
export type ControlHandler = (request: ControlRequest) => Promise<ControlHandlerResult>;

/** A worker's subscription to control commands; close it before closing the broker. */
export interface ControlListener {
  close(): Promise<void>;
}

/**
 * Remote control of live workers (Celery's inspect / control): commands go to every worker on one channel, and each
 * addressed worker replies. Delivery is at most once: a worker that is reconnecting at that instant misses the
 * command and shows up as `missing` in the report. Part of the {@link Broker}.
 */
export interface ControlBus {
  /** Sends a command and collects the replies that arrive within `timeoutMs`. */
  sendControl(request: ControlRequest, options: SendControlOptions): Promise<ControlReport>;
  /** Subscribes the worker `workerId` to control commands; each one addressed to it goes to `handler`. */
  listenForControl(workerId: string, handler: ControlHandler): Promise<ControlListener>;
}
