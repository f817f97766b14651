import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import {
  CeleriacError,
  ErrorCode,
  GpuAdapterKind,
  Isolation,
  gpuCountOf,
  omitUndefined,
  toCatalogueEntry,
  serializeError,
  usesGpu,
  type GpuActivity,
  type GpuCapability,
  type GpuRunner,
  type RateLimit,
  type TaskDefinition,
  type WorkerInfo,
} from '@celeriac/core';
import type { Broker, Consumer, ControlListener, ReceivedJob } from '@celeriac/broker';
import type { GpuExecutor } from '@celeriac/gpu';
import { createRedisBroker } from '@celeriac/redis';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.js';
import { assessWorkerHealth, WorkerLifecycle, type WorkerHealth } from './worker-health.js';
import { runJob, type RunJobDependencies } from './internal/run-job.js';
import { traceRun } from './internal/trace-run.js';
import { rerunOnGpuFailure } from './internal/rerun-on-gpu-failure.js';
import { createSandboxPool, type SandboxPool } from './internal/sandbox/sandbox-pool.js';
import { admitGpuJob, type GpuAdmissionContext } from './internal/routing/admit-gpu-job.js';
import { GpuCapacity } from './internal/routing/gpu-capacity.js';
import { describeUnsatisfied, planRouting, type RoutingPlan } from './internal/routing/plan-routing.js';
import { createControlHandler, unknownTask, type ControllableWorker } from './internal/control/control-handler.js';

/** How often a worker enforces workflow children deadlines: the most a deadline can be late by. */
const childrenDeadlineSweepMs = 1_000;

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
  /**
   * Whether the worker is alive and ready, for liveness and readiness probes: alive while its consumer loop keeps
   * polling Redis (see {@link WorkerHealth.live}), ready once started and until shutdown begins. Cheap and
   * synchronous: it reads what the consumer recorded and asks Redis nothing.
   */
  health(): WorkerHealth;
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
  private controlListener: ControlListener | undefined;
  /** Jobs per queue; starts from the options, and remote control may change it. */
  private concurrency: number;
  /** Whether remote control paused fetching. */
  private paused = false;
  /** Ids of the jobs running now, for the heartbeat. */
  private readonly activeJobs = new Set<string>();
  /** Task rate limits changed by remote control. */
  private readonly rateLimits = new Map<string, RateLimit>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Started on first use: `@celeriac/gpu` is imported only when a task needs a GPU (the type import is erased). */
  private gpuExecutor: Promise<GpuExecutor> | undefined;
  private gpuCapability: GpuCapability | undefined;
  /** Which queues this worker consumes, decided at start from what its GPU can run. */
  private routing: RoutingPlan | undefined;
  private gpuAdmission: GpuAdmissionContext | undefined;
  private closing: Promise<void> | undefined;
  private readonly deps: RunJobDependencies;
  private readonly sandbox: SandboxPool | undefined;
  // Promise.withResolvers would do, but Node 20 lacks it.
  private markClosed: () => void = () => {};
  private readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));
  private isClosed = false;

  constructor(private readonly options: ResolvedWorkerOptions) {
    this.log = (options.logger ?? pino({ name: 'celeriac-worker' })).child({ workerId: this.id });
    this.broker =
      options.broker ??
      createRedisBroker(omitUndefined({ connection: options.connection, prefix: options.prefix, allowEviction: options.allowEviction }));
    this.tasks = new Map(options.tasks.map((task) => [task.name, task]));
    this.concurrency = options.concurrency;
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
      rateLimits: this.rateLimits,
      abortGraceMs: options.abortGrace,
      gpu: () => this.gpuRunner(),
      addFlow: (flow, parent) => this.broker.addFlow(flow, parent),
      ...(this.sandbox ? { sandbox: this.sandbox } : {}),
    };
  }

  async start(): Promise<void> {
    // Refuse a Redis that does not fit (cluster mode, an evicting memory policy) before starting anything.
    for (const warning of (await this.broker.verifyDeployment()).warnings) this.log.warn(warning);
    if (this.sandbox) await this.startSandbox(this.sandbox);
    if (this.options.tasks.some((task) => usesGpu(task.resources))) this.gpuCapability = await this.describeGpu();
    const routing = this.planRouting();
    await this.broker.publishCatalogue(this.options.tasks.map(toCatalogueEntry));
    await this.beat();
    this.heartbeatTimer = setInterval(() => void this.beat(), this.options.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
    this.deadlineTimer = setInterval(() => void this.enforceChildrenDeadlines(), childrenDeadlineSweepMs);
    this.deadlineTimer.unref();
    this.consumer = await this.broker.consume((job) => this.process(job), {
      queues: routing.queues,
      queueConcurrency: routing.queueConcurrency,
      concurrency: this.options.concurrency,
      leaseMs: this.options.lease,
      maxLostAttempts: this.options.maxLostAttempts,
      ...(this.options.queueRateLimits ? { queueRateLimits: this.options.queueRateLimits } : {}),
      onError: (error, queue) => this.log.warn({ err: error, queue }, 'fetching jobs from Redis failed; retrying'),
    });
    this.controlListener = await this.broker.listenForControl(this.id, createControlHandler(this.controllable()));
    const inline = this.options.tasks.filter((task) => task.isolation === Isolation.Inline || !this.sandbox);
    if (!this.sandbox && this.options.tasks.some((task) => task.isolation === Isolation.Sandbox)) {
      this.log.warn(
        'no tasksModule was given, so every task runs inline, on the worker\'s event loop: pass tasksModule ' +
          'to run handlers in sandbox threads (hard time limits, CPU-bound handlers that cannot delay lease renewal)',
      );
    }
    this.log.info(
      {
        queues: routing.queues,
        concurrency: this.options.concurrency,
        tasks: [...this.tasks.keys()],
        inline: inline.map((task) => task.name),
      },
      'worker started',
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown().finally(() => {
      this.isClosed = true;
      this.markClosed();
    });
    return this.closing;
  }

  health(): WorkerHealth {
    return assessWorkerHealth({
      state: this.isClosed
        ? WorkerLifecycle.Closed
        : this.closing
          ? WorkerLifecycle.Closing
          : this.consumer
            ? WorkerLifecycle.Running
            : WorkerLifecycle.Starting,
      lastPollAtMs: this.consumer?.lastPollAtMs,
      pollDue: this.consumer?.pollDue ?? false,
      createdAtMs: this.startedAtMs,
      livenessWindowMs: this.options.livenessWindowMs,
      activeJobs: this.activeJobs.size,
      paused: this.paused,
      nowMs: Date.now(),
    });
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

  /** Runs one job once the worker can (its GPU share is free), or puts it back if this worker can never run it. */
  private async process(job: ReceivedJob): Promise<unknown> {
    const admission = await admitGpuJob(job, this.tasks.get(job.task), this.gpuAdmission);
    if (admission.deferred) return undefined;
    this.activeJobs.add(job.id);
    try {
      return await this.runAndLog(job);
    } finally {
      this.activeJobs.delete(job.id);
      admission.release();
    }
  }

  /** Runs one job and logs its outcome: the code and message of a failure, never the job's payload. */
  private async runAndLog(job: ReceivedJob): Promise<unknown> {
    const startedAtMs = Date.now();
    try {
      const result = await traceRun(job, () => runJob(job, this.deps));
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
    await this.controlListener?.close();
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
    const gpuActivity = await this.gpuActivity();
    const info: WorkerInfo = {
      id: this.id,
      hostname: hostname(),
      pid: process.pid,
      queues: [...(this.routing?.queues ?? this.options.queues)],
      tasks: [...this.tasks.keys()],
      concurrency: this.concurrency,
      startedAtMs: this.startedAtMs,
      heartbeatAtMs: Date.now(),
      capabilities: {
        cpuSlots: availableParallelism(),
        ...(this.gpuCapability === undefined ? {} : { gpu: this.gpuCapability }),
      },
      ...(gpuActivity === undefined ? {} : { gpuActivity }),
      activeJobs: [...this.activeJobs],
      paused: this.paused,
      ...(this.rateLimits.size === 0 ? {} : { rateLimits: this.describeRateLimits() }),
    };
    try {
      await this.broker.heartbeat(info, this.options.heartbeatIntervalMs * 3);
    } catch (error) {
      // A missed beat is survivable (three are allowed); the consumer reconnects on its own.
      this.log.warn({ err: error }, 'heartbeat failed');
    }
  }

  /** What remote control acts on; each change is published with a heartbeat at once. */
  private controllable(): ControllableWorker {
    const changed = () => void this.beat();
    return {
      pauseConsuming: async () => {
        await this.consumer?.pause();
        this.paused = true;
        changed();
      },
      resumeConsuming: async () => {
        await this.consumer?.resume();
        this.paused = false;
        changed();
      },
      setConcurrency: async (concurrency) => {
        await this.consumer?.setConcurrency(concurrency);
        this.concurrency = concurrency;
        changed();
      },
      setRateLimit: (name, rate) => {
        const task = this.tasks.get(name);
        if (!task) throw unknownTask(name, [...this.tasks.keys()]);
        // The task's fairness key, if it has one, still splits the new rate per key.
        if (rate === null) this.rateLimits.delete(name);
        else this.rateLimits.set(name, task.rateLimit?.key ? { ...rate, key: task.rateLimit.key } : rate);
        this.log.info({ task: name, rateLimit: rate }, 'task rate limit changed by remote control');
        changed();
      },
      beginShutdown: () => {
        this.log.info('shutdown requested by remote control');
        // After this turn, so the reply is published before the worker starts closing.
        setImmediate(() => void this.close().catch((error: unknown) => this.log.error({ err: error }, 'shutdown failed')));
      },
      describe: () => ({
        hostname: hostname(),
        pid: process.pid,
        queues: [...(this.routing?.queues ?? this.options.queues)],
        concurrency: this.concurrency,
        paused: this.paused,
        activeJobs: [...this.activeJobs],
        rateLimits: this.describeRateLimits(),
      }),
    };
  }

  private describeRateLimits(): Record<string, { limit: number; perMs: number }> {
    return Object.fromEntries([...this.rateLimits].map(([name, { limit, perMs }]) => [name, { limit, perMs }]));
  }

  /**
   * The GPU executor's counters for the heartbeat, while its process runs. Never starts a process (a crashed one is
   * replaced by the next kernel call), and gives up after a second rather than delay the heartbeat.
   */
  private async gpuActivity(): Promise<GpuActivity | undefined> {
    const executor = await this.gpuExecutor?.catch(() => undefined);
    if (executor?.pid === undefined) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 1_000)));
    try {
      const stats = await Promise.race([executor.stats(), timeout]);
      if (stats === undefined) return undefined;
      const { executorStarts, devicesAcquired, runs, pipelinesCompiled, pipelineCacheHits, kernelTimings } = stats;
      return { executorStarts, devicesAcquired, runs, pipelinesCompiled, pipelineCacheHits, kernelTimings };
    } catch {
      // The executor died between the check and the call: the next heartbeat reports its replacement.
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private gpuRunner(): GpuRunner {
    const executor: GpuRunner = {
      run: async (kernel, args, options) => (await this.startGpuExecutor()).run(kernel, args, options),
    };
    return rerunOnGpuFailure(executor, this.options.gpuReruns, (error, rerun, maxReruns) =>
      this.log.warn({ err: error, rerun, maxReruns }, 'GPU executor failed during a kernel call; running it again'),
    );
  }

  private startGpuExecutor(): Promise<GpuExecutor> {
    this.gpuExecutor ??= import('@celeriac/gpu').then(({ createGpuExecutor }) =>
      createGpuExecutor(this.options.gpuEnv === undefined ? {} : { env: this.options.gpuEnv }),
    );
    return this.gpuExecutor;
  }

  /** The executor's description of the GPU, with what this worker offers of it (its count and kind). */
  private async describeGpu(): Promise<GpuCapability> {
    const described = await (await this.startGpuExecutor()).describe();
    if (!described.available) {
      this.log.warn(described.reason);
      return described;
    }
    const capability: GpuCapability = {
      ...described,
      count: this.options.gpuCount ?? 1,
      adapterType: described.adapter.isSoftware ? GpuAdapterKind.Software : (this.options.gpuAdapterType ?? GpuAdapterKind.Discrete),
    };
    this.log.info({ adapter: capability.adapter, gpuCount: capability.count, adapterType: capability.adapterType }, 'GPU ready');
    return capability;
  }

  /**
   * Decides which queues to consume from what the GPU can run, warns about each task this worker cannot run, and
   * sets up the GPU capacity that fractional jobs share.
   */
  private planRouting(): RoutingPlan {
    const routing = planRouting({
      tasks: this.options.tasks,
      queues: this.options.queues,
      concurrency: this.options.concurrency,
      gpu: this.gpuCapability,
    });
    for (const entry of routing.unsatisfied) {
      this.log.warn({ task: entry.task, queue: entry.queue, reasons: entry.reasons }, describeUnsatisfied(entry));
    }
    this.routing = routing;
    const warned = new Set<string>();
    this.gpuAdmission = {
      routing,
      capacity: new GpuCapacity(gpuCountOf(this.gpuCapability)),
      deferMs: this.options.heartbeatIntervalMs,
      onDeferred: (task, job) => {
        if (warned.has(task.name)) return;
        warned.add(task.name);
        this.log.warn(
          { task: task.name, jobId: job.id, queue: job.queue },
          `job of task "${task.name}" reached this worker on queue "${job.queue}", but this worker cannot run it; ` +
            `it goes back to wait for a capable worker (no attempt spent). Enqueue it on the task's own queue.`,
        );
      },
    };
    return routing;
  }
}
