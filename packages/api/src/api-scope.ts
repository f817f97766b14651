/**
 * What an API key may do. Every protected route declares the one scope it needs in its options
 * (`config: { scope: ApiScope.Read }`); a route with neither a scope nor a place on the public list stops the
 * server from starting, so no route can become public by omission.
 *
 * - `read`: see tasks, jobs (with their inputs and results), workflows, schedules, queues, workers, events, metrics.
 * - `submit`: create jobs and workflows. It does **not** grant `read`: jobs are not owned by the key that made them,
 *   so reading means reading every job's input and result, which a producer that only enqueues (a webhook, a form
 *   handler) should not be able to do. A client that follows its own jobs gets `read,submit`.
 * - `admin`: everything `read` and `submit` allow, plus control: cancel and retry jobs, pause and drain queues,
 *   change schedules, control workers.
 */
export const ApiScope = {
  Read: 'read',
  Submit: 'submit',
  Admin: 'admin',
} as const;
/** One of the scopes in {@link ApiScope}. */
export type ApiScope = (typeof ApiScope)[keyof typeof ApiScope];

/** Every scope, in order of power. */
export const apiScopes = [ApiScope.Read, ApiScope.Submit, ApiScope.Admin] as const satisfies readonly ApiScope[];

/** Whether a key holding `granted` may call a route that needs `required`: `admin` grants everything. */
export function hasScope(granted: readonly ApiScope[], required: ApiScope): boolean {
  return granted.includes(required) || granted.includes(ApiScope.Admin);
}

/** The key a request was authenticated with, on `request.apiKey` (`null` without one, and with auth off). */
export interface AuthenticatedApiKey {
  readonly id: string;
  readonly scopes: readonly ApiScope[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key this request carried, once checked; `null` on public routes and with `auth: false`. */
    apiKey: AuthenticatedApiKey | null;
  }
  interface FastifyContextConfig {
    /**
     * The API-key scope this route needs. Required on every route outside the public list (`/healthz`, `/readyz`,
     * `/docs`): `createApiServer` refuses to start otherwise.
     */
    scope?: ApiScope;
  }
}
