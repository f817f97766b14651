import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import { CeleriacError, ErrorCode } from '@celeriac/core';
import type { ResolvedApiAuth } from '../api-auth-options.js';
import { ApiScope, apiScopes, hasScope } from '../api-scope.js';
import { errorResponseSchema } from '../routes/http-schemas.js';
import { createApiKeyVerifier, parseBearerToken, type ApiKeyVerifier } from './api-key-verifier.js';
import { isDocsRoute, isPublicRoute } from './public-routes.js';

/** What {@link installRouteGuard} needs. */
export interface RouteGuardOptions {
  readonly auth: ResolvedApiAuth;
  /** The rate limiter's hook, run between identifying the key and enforcing its scope; `undefined` when off. */
  readonly limiter: onRequestHookHandler | undefined;
}

/** Requests that carried a bearer token that matched no key (for the `WWW-Authenticate` error). */
const invalidToken = new WeakSet<FastifyRequest>();

/**
 * Guards every route registered after it: a route outside the public list must declare `config: { scope }`, or
 * registering it throws and the server does not start (fail closed: a new route can never be public by omission).
 * Each protected route gets three `onRequest` hooks, before its own: identify the key, rate-limit (by key id, or
 * by IP without a valid key, so key guessing is limited too), then enforce the scope (401 or 403). They run before
 * the body is read, so an unauthenticated caller never gets a body parsed. With auth off, the scope is still
 * required, and only the rate limit runs.
 */
export function installRouteGuard(app: FastifyInstance, { auth, limiter }: RouteGuardOptions): void {
  // Built once: every protected route shares the key lookup.
  const identifyKey = auth === false ? undefined : identify(createApiKeyVerifier(auth.keys));
  const publicDocs = auth === false || auth.publicDocs;
  app.decorateRequest('apiKey', null);
  app.addHook('onRoute', (route) => {
    if (isPublicRoute(route.method, route.url, publicDocs)) return;
    const scope = route.config?.scope ?? (isDocsRoute(route.url) ? ApiScope.Read : undefined);
    if (scope === undefined || !apiScopes.includes(scope)) {
      const methods = [route.method].flat().join(',');
      throw new CeleriacError(
        ErrorCode.InvalidOptions,
        `Route ${methods} ${route.url} declares no API-key scope, so the server refuses to start rather than serve it ` +
          "to anyone. Add config: { scope: 'read' | 'submit' | 'admin' } to its route options.",
        { details: { method: methods, url: route.url, scope: scope ?? null } },
      );
    }
    documentScope(route, scope);
    const hooks = identifyKey === undefined ? [limiter] : [identifyKey, limiter, enforce(scope)];
    route.onRequest = [...hooks.filter((hook) => hook !== undefined), ...[route.onRequest ?? []].flat()];
  });
}

function identify(verify: ApiKeyVerifier): onRequestHookHandler {
  return async (request) => {
    const token = parseBearerToken(request.headers.authorization);
    if (token === undefined) return;
    const record = verify(token);
    if (record === undefined) invalidToken.add(request);
    else request.apiKey = { id: record.id, scopes: record.scopes };
  };
}

function enforce(scope: ApiScope): onRequestHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.apiKey;
    if (key === null) {
      const invalid = invalidToken.has(request);
      reply.header('www-authenticate', invalid ? 'Bearer error="invalid_token"' : 'Bearer');
      throw new CeleriacError(
        ErrorCode.Unauthenticated,
        invalid
          ? 'The API key is not valid here: it is unknown to this server, revoked, or mistyped. Check it, or create a ' +
              'new one with `celeriac api-key create`.'
          : 'This route needs an API key. Send it as `Authorization: Bearer <key>` (the CLI reads --api-key or ' +
              'CELERIAC_API_KEY); create one with `celeriac api-key create`.',
        { details: { reason: invalid ? 'invalid-key' : 'missing-key', required: scope } },
      );
    }
    if (!hasScope(key.scopes, scope)) {
      throw new CeleriacError(
        ErrorCode.Forbidden,
        `The API key "${key.id}" has the scopes ${key.scopes.join(', ')}, but ${request.method} ${request.routeOptions.url} ` +
          `needs "${scope}". Use a key with that scope (admin grants every scope).`,
        { details: { keyId: key.id, required: scope, granted: [...key.scopes] } },
      );
    }
  };
}

/** Puts the scope, the bearer scheme and the 401/403/429 answers into the route's OpenAPI entry. */
function documentScope(route: RouteOptions, scope: ApiScope): void {
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  const response = (schema['response'] ?? {}) as Record<string, unknown>;
  const description = typeof schema['description'] === 'string' ? `${schema['description']}\n\n` : '';
  // A new object per route: Fastify's automatic HEAD route shares the GET route's schema object.
  route.schema = {
    ...schema,
    description: `${description}Needs an API key with the \`${scope}\` scope (\`admin\` grants every scope).`,
    security: [{ apiKey: [] }],
    response: { 401: errorResponseSchema, 403: errorResponseSchema, 429: errorResponseSchema, ...response },
  };
}
