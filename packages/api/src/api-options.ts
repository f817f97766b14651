import { z } from 'zod';
import { durationMs, resolveOptions, type Duration } from '@celeriac/core';
import type { Broker } from '@celeriac/broker';
import type { RedisConnectionOptions } from '@celeriac/redis';
import type { FastifyServerOptions } from 'fastify';

/** What you pass to `createApiServer`. */
export interface ApiOptions {
  /** Where Redis is. Default `redis://127.0.0.1:6379`. */
  readonly connection?: RedisConnectionOptions;
  /** Key prefix shared with the workers. Default `celeriac`. */
  readonly prefix?: string;
  /** A broker to use instead of opening one; the server does not close it. */
  readonly broker?: Broker;
  /** Largest request body accepted, in bytes; larger ones get 413. Default 1 MiB. */
  readonly bodyLimitBytes?: number;
  /** How long a request may wait for Redis before answering 503. Default `'1s'`. */
  readonly redisTimeout?: Duration;
  /** Fastify's logger option. Default: pino at `info`, which logs requests but never bodies. */
  readonly logger?: FastifyServerOptions['logger'];
}

const apiOptionsSchema = z
  .object({
    connection: z.custom<RedisConnectionOptions>().optional(),
    prefix: z.string().optional(),
    broker: z.custom<Broker>((b) => typeof b === 'object' && b !== null && 'enqueue' in b, 'expected a Broker').optional(),
    bodyLimitBytes: z.number().int().min(1_024).max(512 * 1024 * 1024).default(1024 * 1024),
    redisTimeout: durationMs.pipe(z.number().min(1)).default(1_000),
    logger: z.custom<FastifyServerOptions['logger']>().optional(),
  })
  .strict()
  .refine((o) => !(o.broker && (o.connection !== undefined || o.prefix !== undefined)), {
    message: 'give either broker, or connection and prefix, not both',
    path: ['broker'],
  });

/** {@link ApiOptions} after defaults and validation. */
export type ResolvedApiOptions = Readonly<z.output<typeof apiOptionsSchema>>;

/**
 * Validates API options and applies defaults.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming the bad field (`api.bodyLimitBytes: ...`)
 */
export function resolveApiOptions(options: ApiOptions = {}): ResolvedApiOptions {
  return resolveOptions(apiOptionsSchema, options, 'api');
}
