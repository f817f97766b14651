import {
  CeleriacError,
  ErrorCode,
  formatValidationIssues,
  toValidationIssues,
  type TaskContext,
  type TaskDefinition,
} from '@celeriac/core';

/**
 * Runs one task on a raw input: validates the input, calls the handler, validates the output. This is the whole of
 * what runs inside a sandbox, and what runs in the worker itself under `isolation: 'inline'`.
 *
 * @throws CeleriacError `CELERIAC_INVALID_INPUT` / `CELERIAC_INVALID_OUTPUT` (non-retryable, with zod issues), or
 *   whatever the handler throws
 */
export async function executeTask(task: TaskDefinition, rawInput: unknown, ctx: TaskContext): Promise<unknown> {
  const input = task.input.safeParse(rawInput);
  if (!input.success) {
    const issues = toValidationIssues(input.error, 'input');
    throw new CeleriacError(
      ErrorCode.InvalidInput,
      `Job "${ctx.jobId}" has invalid input for task "${task.name}": ${formatValidationIssues(issues)}.`,
      { details: { issues } },
    );
  }
  const output = await task.handler(input.data, ctx);
  const parsed = task.output.safeParse(output);
  if (!parsed.success) {
    const issues = toValidationIssues(parsed.error, 'output');
    throw new CeleriacError(
      ErrorCode.InvalidOutput,
      `Task "${task.name}" returned an output its schema rejects: ${formatValidationIssues(issues)}. ` +
        'Fix the handler or the output schema.',
      { details: { issues } },
    );
  }
  return parsed.data;
}
