import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { celeriacBin, exitOf } from '../../fixtures/spawn-cli.js';
import type { ChaosScope } from './chaos-scope.js';

/** The chaos suite's CPU task module (`chaos-step`), as `celeriac worker --tasks` takes it. */
export const ledgerTasksModule = fileURLToPath(new URL('../fixtures/ledger-tasks.js', import.meta.url));
/** The chaos suite's GPU task module (`chaos-gpu-step`). */
export const gpuLedgerTasksModule = fileURLToPath(new URL('../fixtures/gpu-ledger-tasks.js', import.meta.url));

/** A `celeriac worker` process started by the suite. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it printed so far. */
  output(): string;
  /** True until the process exited. */
  alive(): boolean;
}

/** What every worker of a scenario shares. */
export interface WorkerFleetOptions {
  readonly tasksModule: string;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly lease: string;
  readonly concurrency: number;
  /** Ledger and other environment for the workers. */
  readonly env: Readonly<Record<string, string>>;
  readonly extraArgs?: readonly string[];
}

/** Starts, kills and tracks the real `celeriac worker` processes of one scenario. */
export interface WorkerFleet {
  /** Starts a worker (optionally on another Redis URL, such as a proxy) and resolves once it consumes. */
  start(redisUrl?: string): Promise<WorkerProcess>;
  /** Sends `signal` and resolves with the exit code once the process is gone. */
  stop(worker: WorkerProcess, signal: NodeJS.Signals): Promise<number | null>;
  /** The workers that still run. */
  live(): WorkerProcess[];
}

/**
 * Creates a fleet of `celeriac worker` processes, spawned from the CLI as operators run them. Every process it starts
 * is SIGKILLed by the scope after the test if it still runs.
 */
export function createWorkerFleet(scope: ChaosScope, options: WorkerFleetOptions): WorkerFleet {
  const workers = new Set<WorkerProcess>();
  scope.defer(async () => {
    await Promise.all([...workers].filter((worker) => worker.alive()).map((worker) => killAndWait(worker.child, 'SIGKILL')));
  });
  return {
    async start(redisUrl = options.redisUrl) {
      const args = ['worker', '--tasks', options.tasksModule, '--redis-url', redisUrl, '--prefix', options.prefix];
      args.push('--lease', options.lease, '--concurrency', String(options.concurrency), ...(options.extraArgs ?? []));
      const child = spawn(process.execPath, [celeriacBin, ...args], {
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let printed = '';
      const worker: WorkerProcess = {
        child,
        pid: child.pid!,
        output: () => printed,
        alive: () => child.exitCode === null && child.signalCode === null,
      };
      // Tracked before it is ready: a worker that hangs in its start is still killed after the test.
      workers.add(worker);
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer): void => {
          // Keep the tail only: a long run under chaos may log many warnings.
          printed = (printed + chunk.toString()).slice(-1_000_000);
          if (printed.includes('worker started')) resolve();
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it started:\n${printed}`)));
      });
      return worker;
    },
    stop: (worker, signal) => killAndWait(worker.child, signal),
    live: () => [...workers].filter((worker) => worker.alive()),
  };
}

async function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = exitOf(child);
  child.kill(signal);
  return exited;
}

