import { z } from 'zod';
import { defaultMaxPayloadBytes, durationMs, nameSchema, resolveOptions, type Duration } from '@celeriac/core';
import { clusterUrlSchema, isClusterUrl } from './internal/cluster-url.js';

/**
 * Where Redis is: a `redis://` / `rediss://` URL, host and port with optional ACL credentials and TLS, or the seed
 * nodes of a Redis Cluster ({@link RedisClusterConnectionOptions}), also written as one URL:
 * `redis+cluster://[user:password@]host:port,host:port` (`rediss+cluster://` for TLS).
 */
export type RedisConnectionOptions =
  | string
  | {
      readonly host?: string;
      readonly port?: number;
      readonly username?: string;
      readonly password?: string;
      readonly db?: number;
      readonly tls?: boolean;
    }
  | RedisClusterConnectionOptions;

/**
 * A Redis Cluster: a few of its nodes to start from (the client discovers the rest), with the ACL credentials and
 * TLS setting every node shares. A cluster has no databases, so there is no `db`. Every celeriac key of one prefix
 * lives in one hash slot (see `prefix`), so one prefix is served by one master: give applications their own
 * prefixes to spread the load over the masters.
 *
 * @example
 * ```ts
 * createRedisBroker({ connection: { cluster: [{ host: '10.0.0.1', port: 6379 }, { host: '10.0.0.2', port: 6379 }] } });
 * ```
 */
export interface RedisClusterConnectionOptions {
  /** Seed nodes; one that answers is enough. */
  readonly cluster: readonly { readonly host: string; readonly port?: number }[];
  readonly username?: string;
  readonly password?: string;
  readonly tls?: boolean;
}

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
  /**
   * The largest binary payload of one job's input, or of one result: the typed arrays in it, which are stored as a
   * blob beside the job. Past it, enqueue (or the job) fails with `CELERIAC_PAYLOAD_TOO_LARGE`. Default 64 MiB.
   */
  readonly maxPayloadBytes?: number;
  /**
   * Send the commands issued in one tick in one socket write (ioredis's auto-pipelining). It pays off under many
   * concurrent callers, such as an API server answering many submits at once: the writes, not Redis, bound that path.
   * It costs a sequential caller, which waits an extra tick per command. Default `false`; `createApiServer` turns it
   * on for the broker it creates.
   */
  readonly autoPipelining?: boolean;
  /**
   * Accept a Redis whose `maxmemory-policy` is not `noeviction`. Such a Redis deletes keys when it fills up, jobs
   * and results included, without telling anyone, so the broker refuses it (`CELERIAC_BROKER_MISCONFIGURED` on its
   * first operation) unless this is `true`. Set it only for a Redis you accept to lose jobs on, such as a cache
   * shared for a throwaway demo. Default `false`.
   */
  readonly allowEviction?: boolean;
}

const clusterConnectionSchema = z
  .object({
    cluster: z
      .array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535).default(6379) }).strict())
      .min(1, 'name at least one node of the cluster'),
    username: z.string().optional(),
    password: z.string().optional(),
    tls: z.boolean().optional(),
  })
  .strict();

const connectionSchema = z.union([
  clusterUrlSchema,
  z.url({
    protocol: /^rediss?$/,
    // Reported for a malformed cluster URL too: a union names the failure of its last branch.
    error: (issue) =>
      isClusterUrl(issue.input)
        ? 'expected a cluster URL: redis+cluster://[user:password@]host:port,host:port (ports 1 to 65535)'
        : 'expected a redis://, rediss:// or redis+cluster:// URL',
  }),
  clusterConnectionSchema,
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
    // Redis refuses a value over 512 MB (proto-max-bulk-len), so a larger limit could never be honoured.
    maxPayloadBytes: z.number().int().min(1).max(512 * 1024 * 1024).default(defaultMaxPayloadBytes),
    autoPipelining: z.boolean().default(false),
    allowEviction: z.boolean().default(false),
  })
  .strict();

/** {@link RedisBrokerOptions} after defaults and validation. */
export interface ResolvedRedisBrokerOptions {
  readonly connection: z.output<typeof connectionSchema>;
  /** The hash-tagged prefix every key starts with, e.g. `{celeriac}`. */
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly retention: { readonly succeededAgeMs: number; readonly succeededCount: number; readonly failedAgeMs: number };
  readonly maxPayloadBytes: number;
  readonly autoPipelining: boolean;
  readonly allowEviction: boolean;
}

/** A resolved connection that names a Redis Cluster. */
export type ResolvedClusterConnection = z.output<typeof clusterConnectionSchema>;

/** Whether a resolved connection names a Redis Cluster rather than one server. */
export function isClusterConnection(connection: ResolvedRedisBrokerOptions['connection']): connection is ResolvedClusterConnection {
  return typeof connection === 'object' && 'cluster' in connection;
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
    maxPayloadBytes: resolved.maxPayloadBytes,
    autoPipelining: resolved.autoPipelining,
    allowEviction: resolved.allowEviction,
  });
}
