/**
 * @celeriac/api: the HTTP API. Submit jobs, read their state and results, list the task catalogue, probe health,
 * and read the OpenAPI document, all validated against the JSON Schemas workers publish (it never imports task code).
 *
 * @example
 * ```ts
 * import { createApiServer } from '@celeriac/api';
 *
 * const app = await createApiServer({ connection: process.env.REDIS_URL, auth: { keysFile: 'api-keys.jsonl' } });
 * await app.listen({ port: 8080 });
 * // curl -X POST localhost:8080/v1/tasks/add -H "authorization: Bearer $CELERIAC_API_KEY" \
 * //   -H 'content-type: application/json' -d '{"x":2,"y":3}'
 * ```
 * @packageDocumentation
 */
export { createApiServer } from './create-api-server.js';
export { resolveApiOptions, type ApiOptions, type ResolvedApiOptions } from './api-options.js';
export { ApiScope, apiScopes, hasScope, type AuthenticatedApiKey } from './api-scope.js';
export { apiKeyRecordSchema, type ApiKeyRecord } from './api-key-record.js';
export { createApiKey, hashApiKey, type CreateApiKeyOptions, type CreatedApiKey } from './create-api-key.js';
export { loadApiKeysFile } from './load-api-keys-file.js';
export { apiKeysFileEnv, resolveApiAuth, type ApiAuthOptions, type ResolvedApiAuth } from './api-auth-options.js';
