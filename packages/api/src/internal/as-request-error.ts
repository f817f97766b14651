import { CeleriacError, ErrorCode, isCeleriacError } from '@celeriac/core';

/** How an options error is renamed for HTTP: its message, and, when given, the paths of its issues. */
export interface RequestErrorRenames {
  readonly message: (text: string) => string;
  readonly issuePath?: (path: string) => string;
}

/**
 * Runs `work` and turns the `CELERIAC_INVALID_OPTIONS` it may throw into `CELERIAC_INVALID_REQUEST` (400), renamed
 * to where the value sits in the request (`enqueue.delay` → `query.delay`): over HTTP, bad options are the caller's
 * mistake, not a fault of the server (500).
 */
export async function asRequestError<T>(work: () => T | Promise<T>, renames: RequestErrorRenames): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isCeleriacError(error, ErrorCode.InvalidOptions)) throw error;
    const { message, issuePath } = renames;
    const issues = (error.details['issues'] as { path: string; message: string }[] | undefined) ?? [];
    const details =
      issuePath === undefined ? error.details : { issues: issues.map((issue) => ({ ...issue, path: issuePath(issue.path) })) };
    throw new CeleriacError(ErrorCode.InvalidRequest, message(error.message), { details });
  }
}
