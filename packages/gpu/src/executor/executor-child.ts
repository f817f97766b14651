import { fork, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CeleriacError, deserializeError, ErrorCode } from '@celeriac/core';
import type { ResolvedGpuExecutorOptions } from './gpu-executor-options.js';
import { abortedCallError } from './aborted-call-error.js';
import { isExecutorReply, type ExecutorCall, type ExecutorProcessOptions } from './executor-protocol.js';

/** The compiled entry point next to this file in `dist/executor/`. */
const processEntry = fileURLToPath(new URL('./gpu-executor-process.js', import.meta.url));

/**
 * Dawn prints this for every device it creates: it caps a limit that celeriac never uses. Passing it on would put
 * two alarming-looking lines into every worker's log at start.
 */
const harmlessDawnNotice = /^Warning: maxDynamic\w+PerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\n/gm;

/** How much of the child's stderr a crash report keeps: enough for a driver's last words. */
const stderrTailChars = 4_096;

interface PendingCall {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: CeleriacError) => void;
  /** Stops listening to the call's signal. */
  readonly dispose: () => void;
}

/** How a call can be stopped: its signal, and what it is, for the error messages. */
export interface CallControl {
  /** `kernel "name"`, `upload`…: what the call does, for messages. */
  readonly what: string;
  /** Aborting it while the call is pending kills the process, the only way to stop a dispatch. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * One executor process seen from the parent: it sends requests, pairs replies by id, and rejects every pending call
 * with `CELERIAC_GPU_EXECUTOR_CRASHED` if the process ends. It is single-use: after it ends, the executor forks a new
 * one for the next call.
 */
export class ExecutorChild {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, PendingCall>();
  private readonly exited: Promise<void>;
  private nextId = 1;
  private stderrTail = '';
  private closing = false;
  private ended = false;
  /** The aborted call this process was killed for, if any: the other pending calls' errors say so. */
  private killedFor: string | undefined;
  /** A send found the channel broken: the process is dead or dying, though its exit may not have been seen yet. */
  private channelBroken = false;

  /**
   * @param onEnd - called once the process can take no more calls: when it exits, or as soon as it is killed to stop
   *   an aborted call or a send finds its channel broken, so the executor forks a fresh one for the next call
   *   without waiting for the exit (it may be called more than once)
   */
  constructor(
    options: ResolvedGpuExecutorOptions,
    private readonly onEnd: () => void,
  ) {
    // The process's own options travel as its one argument, read before it acquires a device.
    const processOptions: ExecutorProcessOptions = {
      disabledFeatures: options.disabledFeatures,
      bufferPoolBytes: options.bufferPoolBytes,
    };
    this.child = fork(processEntry, [JSON.stringify(processOptions)], {
      serialization: 'advanced',
      env: { ...process.env, ...options.env },
      execArgv: [...options.execArgv],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.child.on('message', (message) => this.settle(message));
    // Without a listener an 'error' event (a failed spawn or kill) would throw in the parent.
    this.child.on('error', (error) => this.onError(error));
    this.child.stderr?.on('data', (chunk: Buffer) => this.onStderr(chunk));
    // The stderr pipe never keeps the parent alive; the IPC channel does, while calls are pending.
    if (this.child.stderr instanceof Socket) this.child.stderr.unref();
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.end(code, signal);
        onEnd();
        resolve();
      });
    });
    this.updateRef();
  }

  /** Whether the process still takes calls: not exited, not killed to stop an aborted call, its channel whole. */
  get live(): boolean {
    return !this.ended && this.killedFor === undefined && !this.channelBroken;
  }

  /** The process id, for diagnostics and tests that kill it. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Sends one call and resolves with its reply's value, or rejects with its error. If `control.signal` aborts while
   * the call is pending, the call rejects at once (see `abortedCallError`) and the process is killed: WebGPU has no
   * way to cancel a dispatch, so this is the only way to stop a hung kernel. Its other pending calls reject with
   * `CELERIAC_GPU_EXECUTOR_CRASHED` (retryable).
   */
  request(call: ExecutorCall, control?: CallControl): Promise<unknown> {
    if (!this.live) return Promise.reject(this.crashedError(null, null));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const signal = control?.signal;
      const onAbort = (): void => this.abort(id, control?.what ?? call.type, signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { resolve, reject, dispose: () => signal?.removeEventListener('abort', onAbort) });
      this.updateRef();
      this.child.send({ ...call, id }, (error) => {
        if (error === null) return;
        // The channel broke: the child died. Node may report that before the exit, in the same turn of the event
        // loop, so this process is given up now: a call made at once (a rerun of this one) goes to a fresh process
        // instead of failing here again. 'exit' follows and reports the crash to the calls still pending.
        this.channelBroken = true;
        this.onEnd();
        this.reject(id, this.crashedError(null, null, error));
      });
    });
  }

  /**
   * Ends the process cleanly: closing the IPC channel makes it destroy its device and exit. It is killed if it has
   * not exited after `timeoutMs`. Pending calls reject with `CELERIAC_GPU_EXECUTOR_CRASHED`.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.ended) return;
    this.closing = true;
    // Hold the parent open until the child is gone, so awaiting close() always settles.
    this.child.ref();
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private settle(message: unknown): void {
    if (!isExecutorReply(message)) return;
    const call = this.take(message.id);
    if (message.ok) call?.resolve(message.value);
    else call?.reject(deserializeError(message.error));
  }

  private reject(id: number, error: CeleriacError): void {
    this.take(id)?.reject(error);
  }

  /** Removes a pending call to settle it, or `undefined` when it already settled. */
  private take(id: number): PendingCall | undefined {
    const call = this.pending.get(id);
    if (call === undefined) return undefined;
    this.pending.delete(id);
    call.dispose();
    this.updateRef();
    return call;
  }

  private abort(id: number, what: string, reason: unknown): void {
    if (!this.pending.has(id) || this.ended) return;
    this.killedFor ??= what;
    this.reject(id, abortedCallError(what, reason, this.child.pid));
    this.child.kill('SIGKILL');
    this.onEnd();
  }

  private end(code: number | null, signal: NodeJS.Signals | null): void {
    this.ended = true;
    for (const id of [...this.pending.keys()]) this.reject(id, this.crashedError(code, signal));
  }

  private onError(error: Error): void {
    // Only a failed spawn leaves no pid; then no 'exit' may follow, so end here. Other errors precede 'exit'.
    if (this.child.pid !== undefined) return;
    for (const id of [...this.pending.keys()]) this.reject(id, this.crashedError(null, null, error));
  }

  private onStderr(chunk: Buffer): void {
    const text = chunk.toString('utf8');
    const shown = text.replace(harmlessDawnNotice, '');
    if (shown.length > 0) process.stderr.write(shown);
    this.stderrTail = (this.stderrTail + text).slice(-stderrTailChars);
  }

  /**
   * While calls are pending the child holds the parent's event loop open, so `await executor.run()` settles; while
   * idle it does not, so a process that merely created an executor can exit.
   */
  private updateRef(): void {
    if (this.ended) return;
    if (this.pending.size > 0) {
      this.child.ref();
      this.child.channel?.ref();
    } else {
      this.child.unref();
      this.child.channel?.unref();
    }
  }

  private crashedError(code: number | null, signal: NodeJS.Signals | null, cause?: Error): CeleriacError {
    const pid = this.child.pid;
    const how = signal !== null ? `was killed by ${signal}` : code !== null ? `exited with code ${code}` : 'stopped';
    const message = this.closing
      ? `The GPU executor (pid ${pid}) was closed while this call was in flight. Retry it on a running executor.`
      : this.killedFor !== undefined
        ? `The GPU executor process (pid ${pid}) was killed to stop an aborted call (${this.killedFor}) while this ` +
          'call was pending on it. The next call starts a fresh executor; retry this one.'
        : `The GPU executor process (pid ${pid}) ${how} unexpectedly. The next call starts a fresh executor; retry ` +
          'the job, and check the driver if this repeats (details.stderrTail holds the last lines it printed).';
    return new CeleriacError(ErrorCode.GpuExecutorCrashed, message, {
      details: { pid, exitCode: code, signal, stderrTail: this.stderrTail },
      retryable: true,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
