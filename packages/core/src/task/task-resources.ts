import { z } from 'zod';

/** Which GPUs a task accepts; see {@link TaskResources.adapterType}. */
export const AdapterType = { Any: 'any', Discrete: 'discrete' } as const;
/** One of {@link AdapterType}. */
export type AdapterType = (typeof AdapterType)[keyof typeof AdapterType];

/** What a task needs from the worker that runs it. */
export interface TaskResources {
  /**
   * GPUs the task uses while it runs: a share of one GPU (`0.25`: four such jobs run at once on a one-GPU worker) or
   * a whole number of GPUs. Any value routes `ctx.gpu` to the worker's GPU executor, and only workers with that much
   * GPU take the task's jobs.
   */
  readonly gpu?: number | undefined;
  /** WebGPU features the adapter must have (`['shader-f16']`); only with `gpu`. */
  readonly features?: readonly string[] | undefined;
  /**
   * `'discrete'`: only a hardware GPU will do: a software adapter (lavapipe, SwiftShader) or one its worker reports as
   * integrated never takes the task. `'any'` (the default): any adapter, software ones included. Only with `gpu`.
   */
  readonly adapterType?: AdapterType | undefined;
}

/** {@link TaskResources} after validation: a GPU task always carries its (sorted) features and adapter type. */
export type ResolvedTaskResources =
  | { readonly gpu?: never; readonly features?: never; readonly adapterType?: never }
  | { readonly gpu: number; readonly features: readonly string[]; readonly adapterType: AdapterType };

/** Smallest share of a GPU a task may ask for: finer shares would only be rounding noise in capacity sums. */
export const minGpuShare = 0.001;
/** Most GPUs a task may ask for. */
export const maxGpuCount = 64;

/** WebGPU feature names: lowercase words joined by `-` (`shader-f16`, `texture-compression-bc`). */
const featureSchema = z
  .string()
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'use a WebGPU feature name such as "shader-f16"');

/** The JSON form of resolved resources, as the catalogue publishes them and the API reports them. */
export const taskResourcesSchema = z.object({
  gpu: z.number().optional(),
  features: z.array(z.string()).optional(),
  adapterType: z.enum(AdapterType).optional(),
});

/** Validates {@link TaskResources} for `defineTask`, naming the bad field (`task.resources.gpu: ...`). */
export const taskResourcesOptionsSchema = z
  .object({
    gpu: z
      .number()
      .min(minGpuShare, `must be at least ${minGpuShare} (a share of one GPU) or a whole number of GPUs`)
      .max(maxGpuCount)
      .refine((gpu) => gpu <= 1 || Number.isInteger(gpu), 'above 1, give a whole number of GPUs (2, not 1.5)')
      .optional(),
    features: z.array(featureSchema).max(16).optional(),
    adapterType: z.enum(AdapterType).optional(),
  })
  .strict()
  .refine((r) => r.gpu !== undefined || (r.features === undefined && r.adapterType === undefined), {
    message: 'features and adapterType describe a GPU: add gpu (e.g. gpu: 1) or remove them',
    path: ['gpu'],
  })
  .transform(
    (r): ResolvedTaskResources =>
      r.gpu === undefined
        ? {}
        : { gpu: r.gpu, features: [...new Set(r.features ?? [])].sort(), adapterType: r.adapterType ?? AdapterType.Any },
  );

/** True when the task runs through the worker's GPU executor. */
export function usesGpu(resources: TaskResources): boolean {
  return (resources.gpu ?? 0) > 0;
}

/**
 * The queue a GPU task goes to when its definition names none: one per set of requirements (`gpu`, `gpu.0.25`,
 * `gpu.discrete.shader-f16`), so tasks with the same needs share a queue and tasks with different needs never do.
 * A worker consumes a queue only if it can run every one of its tasks there, so sharing a queue with a task that
 * needs more would keep capable workers from the lighter one.
 */
export function defaultGpuQueue(resources: ResolvedTaskResources & { readonly gpu: number }): string {
  const parts = ['gpu'];
  if (resources.gpu !== 1) parts.push(String(resources.gpu));
  if (resources.adapterType === AdapterType.Discrete) parts.push('discrete');
  parts.push(...resources.features);
  return parts.join('.');
}
