import { z } from 'zod';
import type { TaskDefinition } from '../task/define-task.js';

/**
 * A task as a worker publishes it to Redis: name, queue, resources and JSON Schemas. The API serves and validates
 * submissions from this, so it never imports user task code.
 */
export const catalogueEntrySchema = z.object({
  name: z.string(),
  queue: z.string(),
  description: z.string().optional(),
  resources: z.object({ gpu: z.number().optional() }),
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
    resources: { ...task.resources },
    inputSchema: z.toJSONSchema(task.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    outputSchema: z.toJSONSchema(task.output, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>,
    publishedAtMs: Date.now(),
  };
}
