/**
 * @celeriac/api: the HTTP API. Submit jobs, read their state and results, list the task catalogue, probe health,
 * and read the OpenAPI document, all validated against the JSON Schemas workers publish (it never imports task code).
 *
 * @example
 * ```ts
 * import { createApiServer } from '@celeriac/api';
 *
 * const app = await createApiServer({ connection: process.env.REDIS_URL });
 * await app.listen({ port: 8080 });
 * // curl -X POST localhost:8080/v1/tasks/add -H 'content-type: application/json' -d '{"x":2,"y":3}'
 * ```
 * @packageDocumentation
 */
export { createApiServer } from './create-api-server.js';
export { resolveApiOptions, type ApiOptions, type ResolvedApiOptions } from './api-options.js';
