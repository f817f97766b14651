import { existsSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { CeleriacError, ErrorCode, type TaskDefinition } from '@celeriac/core';

/**
 * Loads the tasks a module exports: every export made by `defineTask`, and the members of exported arrays of tasks.
 * The module is JavaScript (compile TypeScript first, or run Node with a TypeScript loader such as `tsx`). Workers
 * load tasks this way so a sandbox can load the very same module on its own.
 *
 * @param module - a file path (relative to the current directory) or a `file:` URL
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` when the file is missing, fails to load, or exports no task
 */
export async function loadTaskModule(module: string | URL): Promise<TaskDefinition[]> {
  const path = module instanceof URL || module.startsWith('file:') ? fileURLToPath(module) : resolve(module);
  if (!existsSync(path)) throw invalid(`no file at ${path}`, path);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const hint = /\.[cm]?ts$/.test(path)
      ? ' This Node cannot load TypeScript directly: compile it with tsc, or run Node with a TypeScript loader (node --import tsx).'
      : '';
    throw invalid(`could not load ${path}: ${(error as Error).message}.${hint}`, path, error);
  }
  const tasks = new Map<string, TaskDefinition>();
  for (const value of Object.values(exports)) {
    for (const candidate of Array.isArray(value) ? value : [value]) {
      if (isTaskDefinition(candidate)) tasks.set(candidate.name, candidate);
    }
  }
  if (tasks.size === 0) throw invalid(`${path} exports no tasks. Export the results of defineTask() from it.`, path);
  return [...tasks.values()];
}

function isTaskDefinition(value: unknown): value is TaskDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const task = value as Partial<TaskDefinition>;
  return typeof task.name === 'string' && typeof task.handler === 'function' && task.input !== undefined && task.output !== undefined;
}

function invalid(message: string, path: string, cause?: unknown): CeleriacError {
  return new CeleriacError(ErrorCode.InvalidOptions, `Task module: ${message}`, { details: { path }, cause });
}
