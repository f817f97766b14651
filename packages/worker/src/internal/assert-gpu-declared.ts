import { CeleriacError, ErrorCode, type TaskDefinition } from '@celeriac/core';

/**
 * Refuses `ctx.gpu` to a task that did not declare `resources.gpu`: the declaration is what routes GPU jobs to GPU
 * workers, so an undeclared use would work on one worker and fail on the next.
 * @throws CeleriacError `CELERIAC_GPU_UNAVAILABLE`
 */
export function assertGpuDeclared(task: TaskDefinition): void {
  if ((task.resources.gpu ?? 0) > 0) return;
  throw new CeleriacError(
    ErrorCode.GpuUnavailable,
    `Task "${task.name}" used ctx.gpu without declaring it. Add resources: { gpu: 1 } to its definition.`,
    { details: { task: task.name } },
  );
}
