import { CeleriacError, ErrorCode, isErrorCode } from '@celeriac/core';

/**
 * Calls the celeriac API and returns the parsed JSON body. Error answers become the API's own
 * {@link CeleriacError} (same code and message), so the CLI prints what the server said.
 */
export async function apiRequest<T>(baseUrl: string, path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new CeleriacError(
      ErrorCode.BrokerUnavailable,
      `Could not reach the celeriac API at ${baseUrl} (${(error as Error).message}). Start it with \`celeriac api\` or \`celeriac dev\`, or pass --api-url.`,
      { cause: error },
    );
  }
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { code?: unknown; message?: string; details?: Record<string, unknown> } }
    | undefined;
  if (response.ok) return body as T;
  const error = body?.error;
  throw new CeleriacError(
    isErrorCode(error?.code) ? error.code : ErrorCode.Internal,
    error?.message ?? `The API answered ${response.status} ${response.statusText}.`,
    { details: error?.details ?? {} },
  );
}
