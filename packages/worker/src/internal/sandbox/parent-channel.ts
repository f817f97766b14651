import type { MessagePort } from 'node:worker_threads';
import { deserializeError } from '@celeriac/core';
import type { CallMessage, ContextCall, ReplyMessage } from './sandbox-protocol.js';

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The thread's side of the context calls: sends a handler's `ctx.log`, `ctx.progress` and `ctx.gpu.run` to the
 * parent and resolves each with its reply. Several calls may be in flight at once (a handler may log while a GPU run
 * is pending), so each carries its own id.
 */
export class ParentChannel {
  private nextCallId = 1;
  private readonly pending = new Map<number, PendingCall>();

  constructor(private readonly port: MessagePort) {}

  /**
   * Sends `call` on behalf of job `runId`. Arguments are cloned, never transferred: a handler that passes its typed
   * arrays to `ctx.gpu.run` keeps them usable afterwards, as it would without a sandbox.
   *
   * @throws whatever the parent's side threw, rebuilt as a CeleriacError; a DataCloneError for arguments that cannot
   *   be cloned (functions, class instances with private state)
   */
  call(runId: number, call: ContextCall): Promise<unknown> {
    const callId = this.nextCallId++;
    return new Promise((resolve, reject) => {
      const message: CallMessage = { ...call, type: 'call', runId, callId };
      // postMessage throws synchronously for an uncloneable argument; the executor turns that into a rejection.
      this.port.postMessage(message);
      this.pending.set(callId, { resolve, reject });
    });
  }

  /** Settles the call a reply answers. */
  settle(reply: ReplyMessage): void {
    const call = this.pending.get(reply.callId);
    if (call === undefined) return;
    this.pending.delete(reply.callId);
    if (reply.ok) call.resolve(reply.value);
    else call.reject(deserializeError(reply.error));
  }
}
