import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TaskDefinition } from '@celeriac/core';
import { UsageError } from './command.js';

/**
 * Loads the tasks a worker runs from a module: every export that is a task (made by `defineTask`), plus the
 * members of exported arrays of tasks. The module is plain JavaScript (compile TypeScript first, or run Node with
 * a TypeScript loader such as `node --import tsx`).
 */
export async function loadTasks(modulePath: string): Promise<TaskDefinition[]> {
  const absolute = resolve(modulePath);
  if (!existsSync(absolute)) throw new UsageError(`--tasks: no file at ${absolute}`);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    const hint = /\.[cm]?ts$/.test(absolute)
      ? ' This Node cannot load TypeScript directly: compile it with tsc, or run `node --import tsx $(which celeriac) ...`.'
      : '';
    throw new UsageError(`--tasks: could not load ${absolute}: ${(error as Error).message}.${hint}`);
  }
  const tasks = new Map<string, TaskDefinition>();
  for (const value of Object.values(exports)) {
    for (const candidate of Array.isArray(value) ? value : [value]) {
      if (isTask(candidate)) tasks.set(candidate.name, candidate);
    }
  }
  if (tasks.size === 0) {
    throw new UsageError(`--tasks: ${absolute} exports no tasks. Export the results of defineTask() from it.`);
  }
  return [...tasks.values()];
}

function isTask(value: unknown): value is TaskDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const task = value as Partial<TaskDefinition>;
  return typeof task.name === 'string' && typeof task.handler === 'function' && task.input !== undefined && task.output !== undefined;
}
