import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import {
  CeleriacError,
  ErrorCode,
  Isolation,
  omitUndefined,
  toCatalogueEntry,
  serializeError,
  type GpuCapability,
  type GpuRunner,
  type TaskDefinition,
  type WorkerInfo,
} from '@celeriac/core';
import type { Broker, Consumer, ReceivedJob } from '@celeriac/broker';
import { createRedisBroker } from '@celeriac/redis';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.js';
import { runJob, type RunJobDependencies } from './internal/run-job.js';
import { createSandboxPool, type SandboxPool } from './internal/sandbox/sandbox-pool.js';

/** How often a worker enforces workflow children deadlines: the most a deadline can be late by. */
const childrenDeadlineSweepMs = 1_000;

/** The GPU executor as the worker uses it; `@celeriac/gpu` is imported only when a task needs a GPU. */
type GpuExecutor = GpuRunner & { describe(): Promise<GpuCapability>; close(): Promise<void> };

/** A running (or ready to run) celeriac worker. */
export interface Worker {
  /** Unique id, shown in heartbeats and logs: `<hostname>-<pid>-<random>`. */
  readonly id: string;
  /**
   * Starts the sandbox threads (each loads `tasksModule`), publishes the catalogue, starts heartbeats and starts
   * consuming.
   * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` when `tasksModule` fails to load in a thread, or does not export
   *   a task that runs in the sandbox; call `close()` afterwards to release the connections
   */
  start(): Promise<void>;
  /**
   * Graceful shutdown: stops fetching, lets jobs in flight finish within `shutdownTimeout`, removes the heartbeat
   * and closes connections. Safe to call more than once.
   */
  close(): Promise<void>;
  /**
   * Closes the worker on SIGTERM or SIGINT, then lets the process exit. Returns a function that removes the
   * handlers. A second signal while closing exits at once.
   */
  closeOnSignals(): () => void;
  /** Resolves once the worker has closed, by `close()` or by a signal. */
  waitUntilClosed(): Promise<void>;
}

/**
 * Creates a worker for `tasks`.
 *
 * @example
 * ```ts
 * const worker = createWorker({ tasks: [add], connection: process.env.REDIS_URL, concurrency: 8 });
 * worker.closeOnSignals();
 * await worker.start();
 * ```
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` for bad options
 */
export function createWorker(options: WorkerOptions): Worker {
  return new CeleriacWorker(resolveWorkerOptions(options));
}

class CeleriacWorker implements Worker {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly log: Logger;
  private readonly broker: Broker;
  private readonly tasks: ReadonlyMap<string, TaskDefinition>;
  private readonly startedAtMs = Date.now();
  private consumer: Consumer | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private gpuExecutor: Promise<GpuExecutor> | undefined;
  private gpuCapability: GpuCapability | undefined;
  private closing: Promise<void> | undefined;
  private readonly deps: RunJobDependencies;
  private readonly sandbox: SandboxPool | undefined;
  // Promise.withResolvers would do, but Node 20 lacks it.
  private markClosed: () => void = () => {};
  private readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(private readonly options: ResolvedWorkerOptions) {
    this.log = (options.logger ?? pino({ name: 'celeriac-worker' })).child({ workerId: this.id });
    this.broker =
      options.broker ??
      createRedisBroker(omitUndefined({ connection: options.connection, prefix: options.prefix }));
    this.tasks = new Map(options.tasks.map((task) => [task.name, task]));
    this.sandbox =
      options.tasksModule === undefined
        ? undefined
        : createSandboxPool({
            tasksModule: options.tasksModule,
            maxThreads: options.sandboxThreads,
            gpu: this.gpuRunner(),
            ...(options.maxTasksPerChild === undefined ? {} : { maxTasksPerThread: options.maxTasksPerChild }),
            ...(options.maxMemoryPerChildMb === undefined ? {} : { maxMemoryPerThreadMb: options.maxMemoryPerChildMb }),
          });
    this.deps = {
      tasks: this.tasks,
      limits: this.broker,
      abortGraceMs: options.abortGrace,
      gpu: () => this.gpuRunner(),
      addFlow: (flow, parent) => this.broker.addFlow(flow, parent),
      ...(this.sandbox ? { sandbox: this.sandbox } : {}),
    };
  }

  async start(): Promise<void> {
    if (this.sandbox) await this.startSandbox(this.sandbox);
    if (this.options.tasks.some(usesGpu)) this.gpuCapability = await this.describeGpu();
    await this.broker.publishCatalogue(this.options.tasks.map(toCatalogueEntry));
    await this.beat();
    this.heartbeatTimer = setInterval(() => void this.beat(), this.options.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
    this.deadlineTimer = setInterval(() => void this.enforceChildrenDeadlines(), childrenDeadlineSweepMs);
    this.deadlineTimer.unref();
    this.consumer = await this.broker.consume((job) => this.process(job), {
      queues: this.options.queues,
      concurrency: this.options.concurrency,
      leaseMs: this.options.lease,
      maxLostAttempts: this.options.maxLostAttempts,
      ...(this.options.queueRateLimits ? { queueRateLimits: this.options.queueRateLimits } : {}),
    });
    const inline = this.options.tasks.filter((task) => task.isolation === Isolation.Inline || !this.sandbox);
    if (!this.sandbox && this.options.tasks.some((task) => task.isolation === Isolation.Sandbox)) {
      this.log.warn(
        'no tasksModule was given, so every task runs inline, on the worker\'s event loop: pass tasksModule ' +
          'to run handlers in sandbox threads (hard time limits, CPU-bound handlers that cannot delay lease renewal)',
      );
    }
    this.log.info(
      {
        queues: this.options.queues,
        concurrency: this.options.concurrency,
        tasks: [...this.tasks.keys()],
        inline: inline.map((task) => task.name),
      },
      'worker started',
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown().finally(() => this.markClosed());
    return this.closing;
  }

  waitUntilClosed(): Promise<void> {
    return this.closed;
  }

  closeOnSignals(): () => void {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.closing) {
        this.log.warn({ signal }, 'second signal during shutdown: exiting now');
        process.exit(130);
      }
      this.log.info({ signal, deadlineMs: this.options.shutdownTimeoutMs }, 'shutting down gracefully');
      this.close().then(
        () => this.log.info('worker stopped'),
        (error: unknown) => {
          this.log.error({ err: error }, 'shutdown failed');
          process.exitCode = 1;
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    return () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }

  /** Runs one job and logs its outcome: the code and message of a failure, never the job's payload. */
  private async process(job: ReceivedJob): Promise<unknown> {
    const startedAtMs = Date.now();
    try {
      const result = await runJob(job, this.deps);
      // Guarded: building the log object for every job costs throughput even when debug logging is off.
      if (this.log.isLevelEnabled('debug')) {
        this.log.debug({ jobId: job.id, task: job.task, durationMs: Date.now() - startedAtMs }, 'job succeeded');
      }
      return result;
    } catch (error) {
      const { code, message } = serializeError(error);
      this.log.warn({ jobId: job.id, task: job.task, code, durationMs: Date.now() - startedAtMs }, message);
      throw error;
    }
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.deadlineTimer);
    const closed = await this.consumer?.close(this.options.shutdownTimeoutMs);
    if (closed && closed.handedBack.length > 0) {
      this.log.warn(
        { jobIds: closed.handedBack, deadlineMs: this.options.shutdownTimeoutMs },
        `handed ${closed.handedBack.length} unfinished job(s) back to their queue at the shutdown deadline`,
      );
    }
    await this.broker.removeWorker(this.id).catch((error: unknown) => {
      // Redis may be gone already; the heartbeat then expires on its own.
      this.log.warn({ err: error }, 'could not remove heartbeat');
    });
    // The consumer has handed back what was still running, so the threads can go now.
    await this.sandbox?.close(0);
    if (this.gpuExecutor) await (await this.gpuExecutor).close();
    if (!this.options.broker) await this.broker.close();
  }

  /**
   * Starts the sandbox threads before taking jobs, as Celery's prefork pool starts its children: a tasks module that
   * fails to load, or lacks a sandboxed task, stops the worker here with a clear error instead of failing every job.
   */
  private async startSandbox(sandbox: SandboxPool): Promise<void> {
    const exported = new Set(await sandbox.start());
    const missing = this.options.tasks
      .filter((task) => task.isolation === Isolation.Sandbox && !exported.has(task.name))
      .map((task) => task.name);
    if (missing.length === 0) return;
    await sandbox.close(0);
    throw new CeleriacError(
      ErrorCode.InvalidOptions,
      `worker.tasksModule: ${String(this.options.tasksModule)} does not export task(s) ${missing.join(', ')}, which ` +
        'run in sandbox threads. Export them from that module, or give them isolation: \'inline\'.',
      { details: { missing } },
    );
  }

  private async enforceChildrenDeadlines(): Promise<void> {
    try {
      const failed = await this.broker.enforceChildrenDeadlines();
      if (failed > 0) this.log.warn({ failed }, 'failed workflow jobs still waiting for their children at their deadline');
    } catch (error) {
      // Redis away: the next sweep tries again, and a deadline is never lost, only late.
      this.log.debug({ err: error }, 'children deadline sweep failed');
    }
  }

  private async beat(): Promise<void> {
    const info: WorkerInfo = {
      id: this.id,
      hostname: hostname(),
      pid: process.pid,
      queues: [...this.options.queues],
      tasks: [...this.tasks.keys()],
      concurrency: this.options.concurrency,
      startedAtMs: this.startedAtMs,
      heartbeatAtMs: Date.now(),
      capabilities: {
        cpuSlots: availableParallelism(),
        ...(this.gpuCapability === undefined ? {} : { gpu: this.gpuCapability }),
      },
    };
    try {
      await this.broker.heartbeat(info, this.options.heartbeatIntervalMs * 3);
    } catch (error) {
      // A missed beat is survivable (three are allowed); the consumer reconnects on its own.
      this.log.warn({ err: error }, 'heartbeat failed');
    }
  }

  private gpuRunner(): GpuRunner {
    return { run: async (kernel, args) => (await this.startGpuExecutor()).run(kernel, args) };
  }

  private startGpuExecutor(): Promise<GpuExecutor> {
    this.gpuExecutor ??= import('@celeriac/gpu').then(({ createGpuExecutor }) =>
      createGpuExecutor(this.options.gpuEnv === undefined ? {} : { env: this.options.gpuEnv }),
    );
    return this.gpuExecutor;
  }

  private async describeGpu(): Promise<GpuCapability> {
    const capability = await (await this.startGpuExecutor()).describe();
    if (capability.available) this.log.info({ adapter: capability.adapter }, 'GPU ready');
    else this.log.warn(capability.reason);
    return capability;
  }
}

function usesGpu(task: TaskDefinition): boolean {
  return (task.resources.gpu ?? 0) > 0;
}
