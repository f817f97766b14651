import { z } from 'zod';
import { durationMs, nameSchema, resolveOptions, type Duration } from '@celeriac/core';

/** Where Redis is: a `redis://` / `rediss://` URL, or host and port with optional ACL credentials and TLS. */
export type RedisConnectionOptions =
  | string
  | {
      readonly host?: string;
      readonly port?: number;
      readonly username?: string;
      readonly password?: string;
      readonly db?: number;
      readonly tls?: boolean;
    };

/** How long finished jobs are kept: whichever of age and count is reached first removes them. */
export interface RetentionOptions {
  /** Keep succeeded jobs this long. Default `'24h'`. */
  readonly succeededAge?: Duration;
  /** Keep at most this many succeeded jobs per queue. Default 1000. */
  readonly succeededCount?: number;
  /** Keep failed jobs this long. Default `'7d'`. */
  readonly failedAge?: Duration;
}

/** What you pass to `createRedisBroker`. */
export interface RedisBrokerOptions {
  /** Where Redis is. Default `redis://127.0.0.1:6379`. */
  readonly connection?: RedisConnectionOptions;
  /**
   * Namespace of every key. It is wrapped in a Redis Cluster hash tag (`celeriac` → `{celeriac}`), so all of
   * celeriac's keys live in one slot and its multi-key scripts work on a cluster. Default `celeriac`.
   */
  readonly prefix?: string;
  /** How long a call may wait for Redis before failing with `CELERIAC_BROKER_UNAVAILABLE`. Default `'2s'`. */
  readonly commandTimeout?: Duration;
  /** How long finished jobs are kept. */
  readonly retention?: RetentionOptions;
}

const connectionSchema = z.union([
  z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }),
  z
    .object({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(1).max(65535).default(6379),
      username: z.string().optional(),
      password: z.string().optional(),
      db: z.number().int().min(0).optional(),
      tls: z.boolean().optional(),
    })
    .strict(),
]);

const redisBrokerOptionsSchema = z
  .object({
    connection: connectionSchema.default('redis://127.0.0.1:6379'),
    prefix: nameSchema.default('celeriac'),
    commandTimeout: durationMs.pipe(z.number().min(1)).default(2_000),
    retention: z
      .object({
        succeededAge: durationMs.default(86_400_000),
        succeededCount: z.number().int().min(0).default(1_000),
        failedAge: durationMs.default(7 * 86_400_000),
      })
      .strict()
      .default({ succeededAge: 86_400_000, succeededCount: 1_000, failedAge: 7 * 86_400_000 }),
  })
  .strict();

/** {@link RedisBrokerOptions} after defaults and validation. */
export interface ResolvedRedisBrokerOptions {
  readonly connection: z.output<typeof connectionSchema>;
  /** The hash-tagged prefix every key starts with, e.g. `{celeriac}`. */
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly retention: { readonly succeededAgeMs: number; readonly succeededCount: number; readonly failedAgeMs: number };
}

/**
 * Validates broker options and applies defaults.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming the bad field (`redis.prefix: ...`)
 */
export function resolveRedisBrokerOptions(options: RedisBrokerOptions = {}): ResolvedRedisBrokerOptions {
  const resolved = resolveOptions(redisBrokerOptionsSchema, options, 'redis');
  return Object.freeze({
    connection: resolved.connection,
    keyPrefix: `{${resolved.prefix}}`,
    commandTimeoutMs: resolved.commandTimeout,
    retention: Object.freeze({
      succeededAgeMs: resolved.retention.succeededAge,
      succeededCount: resolved.retention.succeededCount,
      failedAgeMs: resolved.retention.failedAge,
    }),
  });
}
