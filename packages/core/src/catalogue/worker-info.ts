import { z } from 'zod';

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
  }),
  z.object({ available: z.literal(false), reason: z.string() }),
]);

/** A worker's GPU capability. */
export type GpuCapability = z.output<typeof gpuCapabilitySchema>;

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
});

/** A worker's heartbeat record. */
export type WorkerInfo = z.output<typeof workerInfoSchema>;
