import type { FastifyInstance, FastifyServerOptions, onRequestHookHandler } from 'fastify';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import helmet from 'helmet';
import { CeleriacError, ErrorCode } from '@celeriac/core';
import type { createRedisConnection } from '@celeriac/redis';
import type { ResolvedApiOptions } from '../api-options.js';
import { installRouteGuard } from './route-guard.js';

/** The Redis connection the rate limiter counts in (an ioredis client, typed without importing ioredis here). */
export type RateLimitRedis = ReturnType<typeof createRedisConnection>;

/** Headers that may hold credentials; pino replaces them with `[Redacted]` wherever they are logged. */
const redactedPaths = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'];

/**
 * Fastify's logger option with credentials redacted. Fastify's default request serializer logs the method, URL and
 * addresses, never headers or bodies; the redaction covers a custom serializer or an error that carries headers.
 */
export function toLoggerOptions(logger: FastifyServerOptions['logger'] | undefined): NonNullable<FastifyServerOptions['logger']> {
  if (logger === false) return false;
  if (logger === undefined || logger === true) return { level: 'info', redact: redactedPaths };
  return { redact: redactedPaths, ...logger };
}

/**
 * Registers the security layer before any route: helmet's headers, CORS when configured, the per-key rate limiter
 * (counted in Redis when a connection is given, in memory otherwise) and the route guard (keys and scopes).
 */
export async function registerSecurity(
  app: FastifyInstance,
  resolved: ResolvedApiOptions,
  rateLimitRedis: { readonly redis: RateLimitRedis; readonly keyPrefix: string } | undefined,
): Promise<void> {
  if (resolved.helmet !== false) {
    // helmet's middleware, built once: @fastify/helmet builds it again on every request, which cost a submit about a
    // twelfth of its CPU time (docs/benchmarks.md, HTTP submit).
    const setSecurityHeaders = helmet(resolved.helmet);
    app.addHook('onRequest', (request, reply, done) => setSecurityHeaders(request.raw, reply.raw, () => done()));
  }
  if (resolved.cors !== false) {
    const { origins, maxAge } = resolved.cors;
    await app.register(cors, {
      origin: origins === '*' ? '*' : [...origins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'last-event-id'],
      exposedHeaders: ['location', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
      // Bearer keys, not cookies: the browser never needs to send ambient credentials.
      credentials: false,
      maxAge: Math.ceil(maxAge / 1_000),
    });
  }
  let limiter: onRequestHookHandler | undefined;
  if (resolved.rateLimit !== false) {
    const { max, timeWindowMs } = resolved.rateLimit;
    await app.register(rateLimit, {
      global: false,
      max,
      timeWindow: timeWindowMs,
      ...(rateLimitRedis ? { redis: rateLimitRedis.redis, nameSpace: `${rateLimitRedis.keyPrefix}:rate-limit:` } : {}),
      // While Redis is down, requests are not limited: the routes that need Redis answer 503 on their own, and the
      // limiter must not turn that into 500s.
      skipOnError: true,
      keyGenerator: (request) => (request.apiKey ? `key:${request.apiKey.id}` : `ip:${request.ip}`),
      errorResponseBuilder: (request, context) =>
        new CeleriacError(
          ErrorCode.RateLimited,
          `Too many requests from ${request.apiKey ? `API key "${request.apiKey.id}"` : 'this address'}: the limit is ` +
            `${context.max} requests per ${timeWindowMs / 1_000} s. Retry after ${Math.ceil(context.ttl / 1_000)} s, ` +
            'or use the bulk submit route for many jobs at once.',
          { details: { limit: context.max, timeWindowMs, retryAfterSeconds: Math.ceil(context.ttl / 1_000) } },
        ),
    });
    limiter = app.rateLimit();
  }
  installRouteGuard(app, { auth: resolved.auth, limiter });
}
