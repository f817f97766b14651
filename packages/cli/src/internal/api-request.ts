import { CeleriacError, ErrorCode, isErrorCode } from '@celeriac/core';
import type { ApiTarget } from './connection-flags.js';

/** A request to the API: a method, and for `POST` or `PUT` the value sent as the JSON body. */
export interface ApiRequestInit {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly json?: unknown;
}

/**
 * Calls the celeriac API and returns the parsed JSON body. Error answers become the API's own
 * {@link CeleriacError} (same code and message), so the CLI prints what the server said. The target's key, when it
 * has one, goes in `Authorization: Bearer`.
 */
export async function apiRequest<T>(target: ApiTarget, path: string, init: ApiRequestInit = {}): Promise<T> {
  const { url: baseUrl, key } = target;
  const headers = new Headers();
  if (key !== undefined) headers.set('authorization', `Bearer ${key}`);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  const body = init.json === undefined ? null : JSON.stringify(init.json);
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, { method: init.method ?? 'GET', headers, body, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new CeleriacError(
      ErrorCode.BrokerUnavailable,
      `Could not reach the celeriac API at ${baseUrl} (${(error as Error).message}). Start it with \`celeriac api\` or \`celeriac dev\`, or pass --api-url.`,
      { cause: error },
    );
  }
  const answer = (await response.json().catch(() => undefined)) as
    | { error?: { code?: unknown; message?: string; details?: Record<string, unknown> } }
    | undefined;
  if (response.ok) return answer as T;
  const error = answer?.error;
  throw new CeleriacError(
    isErrorCode(error?.code) ? error.code : ErrorCode.Internal,
    error?.message ?? `The API answered ${response.status} ${response.statusText}.`,
    { details: error?.details ?? {} },
  );
}
