import type { z } from 'zod';
import { CeleriacError } from '../errors/celeriac-error.js';
import { ErrorCode } from '../errors/error-catalogue.js';

/** One schema violation, with a dotted path that starts at the thing being validated (`worker.concurrency`). */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** Turns zod issues into {@link ValidationIssue}s rooted at `root` (e.g. `worker`, `input`, `body`). */
export function toValidationIssues(error: z.ZodError, root: string): ValidationIssue[] {
  return error.issues.flatMap((issue) => explainIssue(issue, [root, ...issue.path.map(String)]));
}

/**
 * One issue as the user should read it. zod says only "Invalid input" when no option of a union fits, so a union's
 * issue is replaced by those of the options that took the value's type (a string that is not a rate such as
 * "100/s", an object whose `limit` is 0); when none did, by the types the options expect.
 */
function explainIssue(issue: z.core.$ZodIssue, path: readonly string[]): ValidationIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ path: path.join('.'), message: issue.message }];
  const wrongType = (issues: readonly z.core.$ZodIssue[]) =>
    issues.length === 1 && issues[0]!.code === 'invalid_type' && issues[0]!.path.length === 0;
  const fitting = issue.errors.filter((issues) => !wrongType(issues));
  if (fitting.length === 0) {
    const expected = [...new Set(issue.errors.map((issues) => (issues[0] as z.core.$ZodIssueInvalidType).expected))];
    return [{ path: path.join('.'), message: `Invalid input: expected ${expected.join(' or ')}` }];
  }
  return fitting.flat().flatMap((inner) => explainIssue(inner, [...path, ...inner.path.map(String)]));
}

/** Formats issues as one readable line: `worker.concurrency: Too small: expected number to be >=1`. */
export function formatValidationIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
}

/**
 * Validates user options against their schema, applies defaults and returns a deeply frozen result.
 * This is the one place options are validated: constructors call it, nothing downstream re-checks.
 *
 * @param root - the name used in messages, e.g. `worker` gives `worker.concurrency: ...`
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming every bad path
 */
export function resolveOptions<Schema extends z.ZodType>(
  schema: Schema,
  options: unknown,
  root: string,
): Readonly<z.output<Schema>> {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issues = toValidationIssues(parsed.error, root);
    throw new CeleriacError(
      ErrorCode.InvalidOptions,
      `Invalid ${root} options: ${formatValidationIssues(issues)}. Fix these options and try again.`,
      { details: { issues } },
    );
  }
  return deepFreeze(parsed.data);
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  // Class instances (an ioredis client, a logger) are handed through, not frozen: they have lifecycles of their own.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null && !Array.isArray(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
