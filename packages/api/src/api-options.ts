import { z } from 'zod';
import { durationMs, resolveOptions, type Duration } from '@celeriac/core';
import type { Broker } from '@celeriac/broker';
import type { RedisConnectionOptions } from '@celeriac/redis';
import type { FastifyServerOptions } from 'fastify';
import type { HelmetOptions } from 'helmet';
import { apiAuthOptionsSchema, resolveApiAuth, type ApiAuthOptions, type ResolvedApiAuth } from './api-auth-options.js';

/** What you pass to `createApiServer`. */
export interface ApiOptions {
  /** Where Redis is. Default `redis://127.0.0.1:6379`. */
  readonly connection?: RedisConnectionOptions;
  /** Key prefix shared with the workers. Default `celeriac`. */
  readonly prefix?: string;
  /**
   * Start even though Redis's `maxmemory-policy` is not `noeviction` (with a warning in the log), accepting that
   * Redis may delete jobs when it fills up. Without it the server refuses to start on such a Redis. Not with
   * `broker`: a broker you pass has its own `allowEviction`. Default `false`.
   */
  readonly allowEviction?: boolean;
  /** A broker to use instead of opening one; the server does not close it. */
  readonly broker?: Broker;
  /** Largest request body accepted, in bytes; larger ones get 413. Default 1 MiB. */
  readonly bodyLimitBytes?: number;
  /** How long a request may wait for Redis before answering 503. Default `'1s'`. */
  readonly redisTimeout?: Duration;
  /**
   * Fastify's logger option. Default: pino at `info`, which logs requests but never bodies. The `authorization`
   * and `cookie` headers are redacted in any logger configured by options (not in a logger instance you pass).
   */
  readonly logger?: FastifyServerOptions['logger'];
  /**
   * API keys. Required: without keys (here or in the file named by `CELERIAC_API_KEYS_FILE`) the server refuses to
   * start, unless `false` turns authentication off explicitly (for tests and trusted networks; it logs a warning).
   */
  readonly auth?: false | ApiAuthOptions;
  /**
   * Requests per key (per IP address without a valid key) and time window, counted in Redis so every API instance
   * shares the count; over it, 429. Default `{ max: 1000, timeWindow: '1m' }` with auth on, off with `auth: false`.
   */
  readonly rateLimit?: false | { readonly max?: number; readonly timeWindow?: Duration };
  /** Cross-origin access for browsers on other origins. Default off (same origin only). */
  readonly cors?: false | { readonly origins: '*' | readonly string[]; readonly maxAge?: Duration };
  /** Security headers by helmet: `false` turns them off, an object configures them. Default: helmet's. */
  readonly helmet?: false | HelmetOptions;
  /** The most jobs one bulk submission may carry; more get 400. Default 1000. */
  readonly maxBulkJobs?: number;
  /** Fastify's `trustProxy`: behind a load balancer, so rate limits see the client's address. Default `false`. */
  readonly trustProxy?: boolean | string | readonly string[];
}

const apiOptionsSchema = z
  .object({
    connection: z.custom<RedisConnectionOptions>().optional(),
    prefix: z.string().optional(),
    allowEviction: z.boolean().optional(),
    broker: z.custom<Broker>((b) => typeof b === 'object' && b !== null && 'enqueue' in b, 'expected a Broker').optional(),
    bodyLimitBytes: z.number().int().min(1_024).max(512 * 1024 * 1024).default(1024 * 1024),
    redisTimeout: durationMs.pipe(z.number().min(1)).default(1_000),
    logger: z.custom<FastifyServerOptions['logger']>().optional(),
    auth: apiAuthOptionsSchema.optional(),
    rateLimit: z
      .union([
        z.literal(false),
        z
          .object({ max: z.number().int().min(1).default(1_000), timeWindow: durationMs.pipe(z.number().min(1)).default(60_000) })
          .strict(),
      ])
      .optional(),
    cors: z
      .union([
        z.literal(false),
        z
          .object({
            origins: z.union([z.literal('*'), z.array(z.url()).min(1)]),
            maxAge: durationMs.default(600_000),
          })
          .strict(),
      ])
      .default(false),
    helmet: z.union([z.literal(false), z.custom<HelmetOptions>((h) => typeof h === 'object' && h !== null)]).default({}),
    maxBulkJobs: z.number().int().min(1).max(100_000).default(1_000),
    trustProxy: z.union([z.boolean(), z.string(), z.array(z.string())]).default(false),
  })
  .strict()
  .refine((o) => !(o.broker && (o.connection !== undefined || o.prefix !== undefined || o.allowEviction !== undefined)), {
    message: 'give either broker, or connection, prefix and allowEviction, not both',
    path: ['broker'],
  });

/** {@link ApiOptions} after defaults and validation, with the keys loaded and the rate limit decided. */
export type ResolvedApiOptions = Readonly<
  Omit<z.output<typeof apiOptionsSchema>, 'auth' | 'rateLimit'> & {
    readonly auth: ResolvedApiAuth;
    readonly rateLimit: false | { readonly max: number; readonly timeWindowMs: number };
  }
>;

const defaultRateLimit = Object.freeze({ max: 1_000, timeWindowMs: 60_000 });

/**
 * Validates API options and applies defaults.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming the bad field (`api.bodyLimitBytes: ...`)
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` when no API key is configured and `auth` is not `false`
 */
export function resolveApiOptions(options: ApiOptions = {}): ResolvedApiOptions {
  const { auth, rateLimit, ...rest } = resolveOptions(apiOptionsSchema, options, 'api');
  const resolvedAuth = resolveApiAuth(auth);
  return Object.freeze({
    ...rest,
    auth: resolvedAuth,
    // The limit is per key; with authentication off (tests, a trusted network) it only applies when asked for.
    rateLimit:
      rateLimit === false || (rateLimit === undefined && resolvedAuth === false)
        ? false
        : rateLimit === undefined
          ? defaultRateLimit
          : Object.freeze({ max: rateLimit.max, timeWindowMs: rateLimit.timeWindow }),
  });
}
