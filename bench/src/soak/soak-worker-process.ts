import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { MemorySample, ParentMessage, SoakWorkerSettings, WorkerMessage } from './soak-messages.js';

const workerScript = new URL('./soak-worker.js', import.meta.url);

/**
 * The soak's worker, in a child process of its own (see `soak-worker.ts`), seen from the parent: its latest memory
 * reading, every periodic one, and readings after a full GC on request.
 */
export class SoakWorkerProcess {
  /** Every periodic reading, in order. */
  readonly samples: MemorySample[] = [];
  private readonly child: ChildProcess;
  private readonly settledWaiters: ((sample: MemorySample) => void)[] = [];
  private failure: Error | undefined;

  private constructor(settings: SoakWorkerSettings) {
    // --expose-gc lets the worker take readings after a full GC; nothing else in it calls gc().
    this.child = fork(workerScript, [JSON.stringify(settings)], { execArgv: ['--expose-gc'], stdio: 'inherit' });
    this.child.on('message', (message: WorkerMessage) => this.receive(message));
    this.child.on('exit', (code, signal) => {
      this.failure ??= new Error(`the soak worker exited early (code ${code}, signal ${signal})`);
    });
  }

  /** Starts the worker process and resolves with its first reading, after a full GC, once it consumes. */
  static async start(settings: SoakWorkerSettings): Promise<{ process: SoakWorkerProcess; ready: MemorySample }> {
    const process = new SoakWorkerProcess(settings);
    const [message] = (await once(process.child, 'message')) as [WorkerMessage];
    if (message.type !== 'ready') throw new Error(message.type === 'failed' ? message.message : 'unexpected message');
    return { process, ready: message.sample };
  }

  /** Jobs the handler has run, as of the latest reading. */
  get processed(): number {
    this.throwIfFailed();
    return this.samples.at(-1)?.processed ?? 0;
  }

  /** A reading after a full GC (which pauses the worker for a few ms). */
  async settle(): Promise<MemorySample> {
    this.throwIfFailed();
    const settled = new Promise<MemorySample>((resolve) => this.settledWaiters.push(resolve));
    this.send({ type: 'settle' });
    return settled;
  }

  /** Closes the worker gracefully and waits for the process to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.failure = new Error('stopped');
    const exited = once(this.child, 'exit');
    this.send({ type: 'stop' });
    await exited;
  }

  private receive(message: WorkerMessage): void {
    if (message.type === 'failed') this.failure = new Error(`the soak worker failed: ${message.message}`);
    if (message.type === 'sample') this.samples.push(message.sample);
    if (message.type === 'settled') this.settledWaiters.shift()?.(message.sample);
  }

  private send(message: ParentMessage): void {
    this.child.send(message);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
