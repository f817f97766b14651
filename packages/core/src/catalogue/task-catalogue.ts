import { z } from 'zod';
import type { TaskDefinition } from '../task/define-task.js';
import { Backoff } from '../task/retry-policy.js';
import { taskResourcesSchema } from '../task/task-resources.js';

/**
 * A task as a worker publishes it to Redis: name, queue, resources and JSON Schemas. The API serves and validates
 * submissions from this, so it never imports user task code.
 */
export const catalogueEntrySchema = z.object({
  name: z.string(),
  queue: z.string(),
  description: z.string().optional(),
  /** What the task needs from its worker: `{}`, or `{ gpu, features, adapterType }` for a GPU task. */
  resources: taskResourcesSchema,
  /** The task's defaults, so a submission by name (HTTP, `enqueueByName`) gets the same policies as a typed one. */
  retry: z.object({
    attempts: z.number(),
    backoff: z.enum(Backoff),
    delayMs: z.number(),
    maxDelayMs: z.number(),
    jitter: z.number(),
  }),
  limits: z.object({ softMs: z.number().optional(), hardMs: z.number().optional() }),
  expiresMs: z.number().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
  outputSchema: z.record(z.string(), z.unknown()),
  publishedAtMs: z.number(),
});

/** One task in the published catalogue. */
export type CatalogueEntry = z.output<typeof catalogueEntrySchema>;

/**
 * Describes a task for the catalogue. The input schema is the *input* side of the zod schema (what callers send,
 * with defaults optional); the output schema is what callers get back. Types JSON Schema cannot express (a
 * transform, a custom check) become `{}` rather than failing the worker's start.
 */
export function toCatalogueEntry(task: TaskDefinition): CatalogueEntry {
  return {
    name: task.name,
    queue: task.queue,
    ...(task.description === undefined ? {} : { description: task.description }),
    resources:
      task.resources.gpu === undefined
        ? {}
        : { gpu: task.resources.gpu, features: [...task.resources.features], adapterType: task.resources.adapterType },
    // retryOn stays with the worker: it is decided where the error is thrown, and error names mean nothing elsewhere.
    retry: {
      attempts: task.retry.attempts,
      backoff: task.retry.backoff,
      delayMs: task.retry.delayMs,
      maxDelayMs: task.retry.maxDelayMs,
      jitter: task.retry.jitter,
    },
    limits: { ...task.limits },
    ...(task.expiresMs === undefined ? {} : { expiresMs: task.expiresMs }),
    inputSchema: z.toJSONSchema(task.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    outputSchema: z.toJSONSchema(task.output, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>,
    publishedAtMs: Date.now(),
  };
}
