import { z } from 'zod';

/** What kind of adapter a worker has, for matching `resources.adapterType`; see {@link gpuCapabilitySchema}. */
export const GpuAdapterKind = { Discrete: 'discrete', Integrated: 'integrated', Software: 'software' } as const;
/** One of {@link GpuAdapterKind}. */
export type GpuAdapterKind = (typeof GpuAdapterKind)[keyof typeof GpuAdapterKind];

/** What a worker knows about its GPU: the adapter's identity, features and limits, or why there is none. */
export const gpuCapabilitySchema = z.discriminatedUnion('available', [
  z.object({
    available: z.literal(true),
    adapter: z.object({
      vendor: z.string(),
      architecture: z.string(),
      device: z.string(),
      description: z.string(),
      /** True for CPU implementations such as lavapipe or SwiftShader: correct, but not fast. */
      isSoftware: z.boolean(),
    }),
    features: z.array(z.string()),
    limits: z.record(z.string(), z.number()),
    /**
     * What kind of GPU this is, as the worker counts it for `resources.adapterType`: `software` when `isSoftware`,
     * otherwise `discrete` unless the worker was told `integrated` (WebGPU does not report the difference).
     * Absent from the executor's own description; the worker adds it to its heartbeat.
     */
    adapterType: z.enum(GpuAdapterKind).optional(),
    /**
     * GPUs the worker offers to tasks: 1 for a WebGPU adapter unless the worker's `gpuCount` says otherwise. Jobs run
     * at once as long as their `resources.gpu` shares add up to at most this. Absent means 1.
     */
    count: z.number().min(0).optional(),
  }),
  z.object({ available: z.literal(false), reason: z.string() }),
]);

/** A worker's GPU capability. */
export type GpuCapability = z.output<typeof gpuCapabilitySchema>;

/**
 * How a worker's GPU executor has been doing, from `GpuExecutor.stats()`, for operators and metrics. The counters of
 * the current executor process start again from 0 when it is replaced; `executorStarts` counts for the worker's life.
 */
export const gpuActivitySchema = z.object({
  /** Executor processes started: more than 1 means one crashed or was killed, and was replaced. */
  executorStarts: z.number().int(),
  /** Devices the current process acquired: more than 1 means a device was lost and replaced. */
  devicesAcquired: z.number().int(),
  /** Kernel runs of the current process. */
  runs: z.number().int(),
  pipelinesCompiled: z.number().int(),
  pipelineCacheHits: z.number().int(),
  /** GPU time per kernel name, from timestamp queries; empty where the adapter has none. */
  kernelTimings: z.record(z.string(), z.object({ runs: z.number().int(), totalNs: z.number(), lastNs: z.number() })),
});

/** A worker's GPU activity; see {@link gpuActivitySchema}. */
export type GpuActivity = z.output<typeof gpuActivitySchema>;

/** A live worker as its heartbeat describes it. */
export const workerInfoSchema = z.object({
  id: z.string(),
  hostname: z.string(),
  pid: z.number().int(),
  queues: z.array(z.string()),
  tasks: z.array(z.string()),
  concurrency: z.number().int(),
  startedAtMs: z.number(),
  heartbeatAtMs: z.number(),
  capabilities: z.object({ cpuSlots: z.number().int(), gpu: gpuCapabilitySchema.optional() }),
  /** Present on workers that run GPU tasks, once their executor has started. */
  gpuActivity: gpuActivitySchema.optional(),
  /** Ids of the jobs running on the worker at its last heartbeat (absent from workers older than this field). */
  activeJobs: z.array(z.string()).optional(),
  /** True while the worker has stopped fetching jobs, by a `pause` control command. */
  paused: z.boolean().optional(),
  /** Task rate limits changed at runtime by `set-rate-limit`: task name → `{ limit, perMs }`. */
  rateLimits: z.record(z.string(), z.object({ limit: z.number(), perMs: z.number() })).optional(),
});

/** A worker's heartbeat record. */
export type WorkerInfo = z.output<typeof workerInfoSchema>;
