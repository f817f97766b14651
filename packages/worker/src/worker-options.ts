import { availableParallelism } from 'node:os';
import { z } from 'zod';
import {
  durationMs,
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
  /** A pino logger. Default: pino at `info` on stdout. */
  readonly logger?: Logger;
  /** Extra environment for the GPU executor process (e.g. `VK_ICD_FILENAMES` to pick a driver). */
  readonly gpuEnv?: Readonly<Record<string, string>>;
}

const workerOptionsSchema = z
  .object({
    tasks: z.array(z.custom<TaskDefinition>((t) => typeof t === 'object' && t !== null && 'handler' in t, 'expected a task from defineTask()')).min(1, 'give the worker at least one task'),
    tasksModule: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
    sandboxThreads: z.number().int().min(1).max(1_024).default(availableParallelism()),
    maxTasksPerChild: z.number().int().min(1).optional(),
    maxMemoryPerChildMb: z.number().int().min(16).optional(),
    connection: z.custom<RedisConnectionOptions>().optional(),
    prefix: z.string().optional(),
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
    logger: z.custom<Logger>((l) => typeof l === 'object' && l !== null && 'child' in l, 'expected a pino logger').optional(),
    gpuEnv: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine((o) => !(o.broker && (o.connection !== undefined || o.prefix !== undefined)), {
    message: 'give either broker, or connection and prefix, not both',
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
};

/**
 * Validates worker options and applies defaults.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming the bad field (`worker.concurrency: ...`)
 */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  const resolved = resolveOptions(workerOptionsSchema, options, 'worker');
  return Object.freeze({
    ...resolved,
    queues: resolved.queues ?? [...new Set(resolved.tasks.map((task) => task.queue))],
    shutdownTimeoutMs: resolved.shutdownTimeout,
    heartbeatIntervalMs: resolved.heartbeatInterval,
  });
}
