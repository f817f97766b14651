import { availableParallelism } from 'node:os';
import { z } from 'zod';
import {
  durationMs,
  maxGpuCount,
  nameSchema,
  rateLimitSchema,
  resolveOptions,
  type Duration,
  type RateLimitOptions,
  type TaskDefinition,
} from '@celeriac/core';
import type { Broker } from '@celeriac/broker';
import type { RedisConnectionOptions } from '@celeriac/redis';
import type { Logger } from 'pino';
import { createAdHocKernelTask } from './internal/ad-hoc-kernel-task.js';

/** What you pass to `createWorker`. */
export interface WorkerOptions {
  /** The tasks this worker can run. Jobs of other tasks fail with `CELERIAC_TASK_NOT_FOUND`. */
  readonly tasks: readonly TaskDefinition[];
  /**
   * The module that exports `tasks` (a path or `new URL('./tasks.js', import.meta.url)`). Sandbox threads load their
   * own copy of the tasks from it: a thread cannot be handed functions. Without it, every task runs inline.
   */
  readonly tasksModule?: string | URL;
  /**
   * Sandbox threads, each running one job at a time; `start()` starts them all. More threads than cores do not speed
   * up CPU-bound handlers, and each costs memory and a module load; light async handlers belong inline.
   * Default: the number of CPUs.
   */
  readonly sandboxThreads?: number;
  /** Replace a sandbox thread after it ran this many jobs (Celery's `max_tasks_per_child`). Default: never. */
  readonly maxTasksPerChild?: number;
  /** Replace a sandbox thread whose heap grew past this many MiB after a job. Default: no limit. */
  readonly maxMemoryPerChildMb?: number;
  /** Where Redis is, when the worker should open its own broker. Default `redis://127.0.0.1:6379`. */
  readonly connection?: RedisConnectionOptions;
  /** Key prefix (hash-tagged), as for the client. Default `celeriac`. */
  readonly prefix?: string;
  /**
   * Start even though Redis's `maxmemory-policy` is not `noeviction` (with a warning in the log), accepting that
   * Redis may delete jobs when it fills up. Without it the worker refuses to start on such a Redis. Not with
   * `broker`: a broker you pass has its own `allowEviction`. Default `false`.
   */
  readonly allowEviction?: boolean;
  /** A broker to use instead of opening one; the worker does not close it. */
  readonly broker?: Broker;
  /** Queues to consume. Default: every queue of the worker's tasks. */
  readonly queues?: readonly string[];
  /** Jobs run at once, per queue. Default: the number of CPUs. */
  readonly concurrency?: number;
  /** How long shutdown waits for jobs in flight. Default `'30s'`. */
  readonly shutdownTimeout?: Duration;
  /**
   * How long a handler may keep running after its job was cancelled (or the shutdown deadline passed) before the
   * worker stops waiting for it. Default `'10s'`.
   */
  readonly abortGrace?: Duration;
  /**
   * How long a running job stays locked to this worker without a renewal; renewals happen every half lease. If the
   * worker dies, its jobs run again elsewhere after one to two leases. Default `'30s'`.
   */
  readonly lease?: Duration;
  /** How many times a job may be lost with a dying worker before it fails (`CELERIAC_WORKER_LOST`). Default 2. */
  readonly maxLostAttempts?: number;
  /**
   * Global rate limits by queue (`{ emails: '100/s' }`): BullMQ's limiter, enforced in Redis across every worker of
   * the queue (give each worker the same limit). Per-task and per-key limits go on the task (`rateLimit`).
   */
  readonly queueRateLimits?: Readonly<Record<string, RateLimitOptions<never>>>;
  /** How often the worker refreshes its heartbeat; it expires after three missed beats. Default `'5s'`. */
  readonly heartbeatInterval?: Duration;
  /**
   * How long the consumer may go without a successful poll of Redis, while one is due, before `health()` reports the
   * worker not live (and `/livez` answers 503). An idle worker polls every 5 s (10 s while only delayed jobs wait),
   * and a rate-limited queue may wait up to 30 s, so keep it above 30 s in production. Default `'60s'`.
   */
  readonly livenessWindow?: Duration;
  /** A pino logger. Default: pino at `info` on stdout. */
  readonly logger?: Logger;
  /** Extra environment for the GPU executor process (e.g. `VK_ICD_FILENAMES` to pick a driver). */
  readonly gpuEnv?: Readonly<Record<string, string>>;
  /**
   * How many times a kernel call reruns when its GPU executor process crashed or its device was lost, before the
   * retryable error reaches the handler (and the task's retry policy). Default 2.
   */
  readonly gpuReruns?: number;
  /**
   * Enables the built-in task `celeriac.kernel`, which runs an elementwise or reduction kernel sent as data (WGSL
   * expressions plus arrays), so clients in any language can run GPU kernels over HTTP without deploying code. Off
   * by default: enable it only on workers whose API is trusted to submit GPU code. `true` takes the default limits:
   * 16,777,216 elements per array and a 30 s time limit per job.
   */
  readonly adHocKernels?: boolean | { readonly maxElements?: number; readonly timeLimit?: Duration };
  /**
   * GPUs this worker offers to tasks, when it has an adapter: the sum of `resources.gpu` of the jobs it runs at once
   * never exceeds it. Default 1 (one WebGPU adapter). Set it below 1 when several workers share one GPU (two
   * containers pinned to the same card: 0.5 each), or 0 to run no GPU task here.
   */
  readonly gpuCount?: number;
  /**
   * Whether the adapter is a discrete or an integrated GPU, for tasks with `resources.adapterType: 'discrete'`.
   * WebGPU does not say, so a hardware adapter counts as discrete unless this says `'integrated'`; a software adapter
   * (lavapipe, SwiftShader) is never discrete.
   */
  readonly gpuAdapterType?: 'discrete' | 'integrated';
}

/** The limits of the ad-hoc kernel task; `adHocKernels: true` takes these defaults. */
const adHocKernelLimitsSchema = z
  .object({
    maxElements: z.number().int().min(1).max(2 ** 28).default(2 ** 24),
    timeLimit: durationMs.pipe(z.number().min(100)).default(30_000),
  })
  .strict();

const workerOptionsSchema = z
  .object({
    tasks: z.array(z.custom<TaskDefinition>((t) => typeof t === 'object' && t !== null && 'handler' in t, 'expected a task from defineTask()')).min(1, 'give the worker at least one task'),
    tasksModule: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
    sandboxThreads: z.number().int().min(1).max(1_024).default(availableParallelism()),
    maxTasksPerChild: z.number().int().min(1).optional(),
    maxMemoryPerChildMb: z.number().int().min(16).optional(),
    connection: z.custom<RedisConnectionOptions>().optional(),
    prefix: z.string().optional(),
    allowEviction: z.boolean().optional(),
    broker: z.custom<Broker>((b) => typeof b === 'object' && b !== null && 'consume' in b, 'expected a Broker').optional(),
    queues: z.array(nameSchema).min(1).optional(),
    concurrency: z.number().int().min(1).max(10_000).default(availableParallelism()),
    shutdownTimeout: durationMs.default(30_000),
    abortGrace: durationMs.default(10_000),
    lease: durationMs.pipe(z.number().min(500)).default(30_000),
    queueRateLimits: z
      .record(nameSchema, rateLimitSchema.refine((rate) => !('key' in rate), 'a queue rate limit has no key'))
      .optional(),
    maxLostAttempts: z.number().int().min(1).max(100).default(2),
    heartbeatInterval: durationMs.pipe(z.number().min(100)).default(5_000),
    livenessWindow: durationMs.pipe(z.number().min(1_000)).default(60_000),
    logger: z.custom<Logger>((l) => typeof l === 'object' && l !== null && 'child' in l, 'expected a pino logger').optional(),
    gpuEnv: z.record(z.string(), z.string()).optional(),
    gpuReruns: z.number().int().min(0).max(10).default(2),
    adHocKernels: z
      .union([z.boolean(), adHocKernelLimitsSchema])
      .default(false)
      .transform((value) => (value === true ? adHocKernelLimitsSchema.parse({}) : value)),
    gpuCount: z.number().min(0).max(maxGpuCount).optional(),
    gpuAdapterType: z.enum(['discrete', 'integrated']).optional(),
  })
  .strict()
  .refine((o) => !(o.broker && (o.connection !== undefined || o.prefix !== undefined || o.allowEviction !== undefined)), {
    message: 'give either broker, or connection, prefix and allowEviction, not both',
    path: ['broker'],
  })
  .refine((o) => new Set(o.tasks.map((t) => t.name)).size === o.tasks.length, {
    message: 'two tasks share a name; task names must be unique',
    path: ['tasks'],
  });

/** {@link WorkerOptions} after defaults and validation. */
export type ResolvedWorkerOptions = Readonly<z.output<typeof workerOptionsSchema>> & {
  readonly queues: readonly string[];
  readonly shutdownTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly livenessWindowMs: number;
};

/**
 * Validates worker options and applies defaults.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming the bad field (`worker.concurrency: ...`)
 */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  const resolved = resolveOptions(workerOptionsSchema, options, 'worker');
  const { adHocKernels } = resolved;
  const tasks = adHocKernels
    ? [...resolved.tasks, createAdHocKernelTask({ maxElements: adHocKernels.maxElements, timeLimitMs: adHocKernels.timeLimit })]
    : resolved.tasks;
  return Object.freeze({
    ...resolved,
    tasks,
    queues: resolved.queues ?? [...new Set(tasks.map((task) => task.queue))],
    shutdownTimeoutMs: resolved.shutdownTimeout,
    heartbeatIntervalMs: resolved.heartbeatInterval,
    livenessWindowMs: resolved.livenessWindow,
  });
}
